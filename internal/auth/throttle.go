package auth

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"time"

	"github.com/trellisml/trellis/internal/trellis"
)

// Sign-in throttling. Failed passwords are counted per (name, client
// address) and per client address; past a counter's free failures each
// further attempt must wait ThrottleBase, then twice that, and so on up to
// ThrottleMax after the last failure, and is refused without running
// argon2id until then. Nothing locks a name: the owner signing in from
// their own address is not held up by an attacker elsewhere. Failures of
// one name from all addresses are counted too; NameCeiling of them within
// NameWindow alert the instance admins (OnLoginCeiling) instead.
const (
	PairFreeFailures = 5                // failures of one name from one address before the delays start
	AddrFreeFailures = 20               // failures from one address, any names, before the delays start
	ThrottleBase     = time.Second      // the first delay; each further failure doubles it ...
	ThrottleMax      = 15 * time.Minute // ... up to this
	// ThrottleMemory is how long a counter is kept after its last failure;
	// a counter quiet that long starts over, and is pruned.
	ThrottleMemory = 24 * time.Hour
	NameCeiling    = 100       // failures of one name, any addresses, within NameWindow that alert
	NameWindow     = time.Hour // counted from the window's first failure
	// pruneInterval spaces the deletions of forgotten counters, which a
	// failure triggers, so a failure costs one write.
	pruneInterval = 10 * time.Minute
)

// FailureCount is a counter of failed sign-ins.
type FailureCount struct {
	Failures    int
	First, Last time.Time // the first failure counted and the last
}

// LoginFailures are the counters a sign-in attempt is judged by.
type LoginFailures struct {
	Pair FailureCount // this name from this address
	Addr FailureCount // this address, any name
	Name FailureCount // this name, any address
}

// LoginFailure is one failed sign-in to count.
type LoginFailure struct {
	Name, Addr string
	At         time.Time
	// Forget restarts the pair and address counters whose last failure is
	// before it; Window restarts the name counter whose first failure is
	// before it.
	Forget, Window time.Time
}

// LoginCeiling is the event of a user's name reaching NameCeiling failed
// sign-ins within NameWindow, from any addresses: a guessing attack spread
// over many addresses, which the per-address delays slow but do not stop.
type LoginCeiling struct {
	Name     string
	Failures int
	Since    time.Time // the window's first failure
	Addr     string    // the address of the failure that reached the ceiling
}

// OnLoginCeiling registers fn to be called, on the failing request's
// goroutine, when a user's name reaches the ceiling; across every server
// sharing the store it is called once per name and window. Unknown names
// are counted but never alert, so spraying made-up names cannot flood the
// admins. Register before serving; fn must handle its own errors.
func (s *Service) OnLoginCeiling(fn func(context.Context, LoginCeiling)) {
	s.ceiling = append(s.ceiling, fn)
}

// Throttled is the ETOOMANY error of a sign-in attempt that came too soon
// after failures from its address.
type Throttled struct {
	RetryAfter time.Duration
}

func (e *Throttled) Error() string { return e.Unwrap().Error() }

// Unwrap returns the trellis error the surfaces write.
func (e *Throttled) Unwrap() error {
	wait := "1 second"
	switch s := int((e.RetryAfter + time.Second - 1) / time.Second); {
	case s > 90:
		wait = fmt.Sprintf("%d minutes", (s+59)/60)
	case s > 1:
		wait = fmt.Sprintf("%d seconds", s)
	}
	return trellis.Errorf(trellis.ETOOMANY, "Too many failed sign-in attempts from your address. Try again in %s.", wait)
}

// RetryAfter returns how long a throttled sign-in must wait, in whole
// seconds for a Retry-After header; ok is false when err is no throttle.
func RetryAfter(err error) (seconds int, ok bool) {
	var t *Throttled
	if !errors.As(err, &t) {
		return 0, false
	}
	return max(1, int((t.RetryAfter+time.Second-1)/time.Second)), true
}

// Delay is the wait after the n-th failure past a counter's free ones:
// ThrottleBase doubled n-1 times, at most ThrottleMax; 0 for n <= 0.
func Delay(n int) time.Duration {
	switch {
	case n <= 0:
		return 0
	case n > 20:
		return ThrottleMax
	}
	return min(ThrottleBase<<(n-1), ThrottleMax)
}

// wait is how long after now an attempt judged by c must wait.
func (c FailureCount) wait(free int, now time.Time) time.Duration {
	if c.Failures < free || now.Sub(c.Last) >= ThrottleMemory {
		return 0
	}
	return max(0, c.Last.Add(Delay(c.Failures-free+1)).Sub(now))
}

type clientAddrKey struct{}

// addrContext carries the client's address: one allocation per request,
// where context.WithValue would box the address in a second.
type addrContext struct {
	context.Context
	addr netip.Addr
}

func (c *addrContext) Value(key any) any {
	if key == (clientAddrKey{}) {
		return c.addr
	}
	return c.Context.Value(key)
}

// WithClientAddr returns ctx carrying the address the request came from, as
// the server determined it; failed sign-ins are counted per address.
func WithClientAddr(ctx context.Context, addr netip.Addr) context.Context {
	return &addrContext{Context: ctx, addr: addr}
}

// clientAddr is the counters' key for the request's address: an IPv4
// address, or the /64 of an IPv6 one (one subscriber's allocation, so
// hopping within it does not buy fresh budgets); "" when unknown (the
// command line).
func clientAddr(ctx context.Context) string {
	a, _ := ctx.Value(clientAddrKey{}).(netip.Addr)
	switch a = a.Unmap(); {
	case !a.IsValid():
		return ""
	case a.Is6():
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}

// throttle refuses an attempt that must wait, with a *Throttled, and
// returns the counters it read.
func (s *Service) throttle(ctx context.Context, name, addr string, now time.Time) (LoginFailures, error) {
	f, err := s.store.FindLoginFailures(ctx, name, addr)
	if err != nil {
		return f, err
	}
	if wait := max(f.Pair.wait(PairFreeFailures, now), f.Addr.wait(AddrFreeFailures, now)); wait > 0 {
		return f, &Throttled{RetryAfter: wait}
	}
	return f, nil
}

// recordFailure counts a failed sign-in with one write, alerts at the
// name's ceiling (known users only), and now and then prunes forgotten
// counters.
func (s *Service) recordFailure(ctx context.Context, name, addr string, known bool) error {
	now := s.now()
	f, err := s.store.RecordLoginFailure(ctx, LoginFailure{Name: name, Addr: addr, At: now, Forget: now.Add(-ThrottleMemory), Window: now.Add(-NameWindow)})
	if err != nil {
		return err
	}
	if known && f.Name.Failures == NameCeiling {
		ev := LoginCeiling{Name: name, Failures: f.Name.Failures, Since: f.Name.First, Addr: addr}
		for _, fn := range s.ceiling {
			fn(ctx, ev)
		}
	}
	s.mu.Lock()
	due := now.Sub(s.pruned) >= pruneInterval
	if due {
		s.pruned = now
	}
	s.mu.Unlock()
	if due {
		return s.store.PruneLoginFailures(ctx, now.Add(-ThrottleMemory))
	}
	return nil
}

// addrGates serialise the password checks from one address within a
// process, so that a burst of parallel guesses is judged one after another
// against counters that include the guesses before it, instead of all
// passing the check before the first failure is written.
type addrGates struct {
	mu    sync.Mutex
	gates map[string]*addrGate
}

type addrGate struct {
	sync.Mutex
	users int // requests holding or waiting for the gate
}

// enter waits for addr's gate and returns the function that leaves it.
func (g *addrGates) enter(addr string) (leave func()) {
	g.mu.Lock()
	if g.gates == nil {
		g.gates = map[string]*addrGate{}
	}
	gate := g.gates[addr]
	if gate == nil {
		gate = &addrGate{}
		g.gates[addr] = gate
	}
	gate.users++
	g.mu.Unlock()
	gate.Lock()
	return func() {
		gate.Unlock()
		g.mu.Lock()
		if gate.users--; gate.users == 0 {
			delete(g.gates, addr)
		}
		g.mu.Unlock()
	}
}
