package server_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/trellisml/trellis/internal/apptest"
	"github.com/trellisml/trellis/internal/auth"
	"github.com/trellisml/trellis/internal/cli"
	"github.com/trellisml/trellis/internal/store"
)

// from is an HTTP client whose connections leave from the loopback address
// ip (Linux routes all of 127/8 to lo), so the server sees ip as the
// client's address. It does not follow redirects.
func from(ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 10 * time.Second}
	return &http.Client{
		Timeout:       30 * time.Second,
		Transport:     &http.Transport{DialContext: d.DialContext},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// answer is one response of a sign-in attempt.
type answer struct {
	status     int
	retryAfter string
	body       string
	took       time.Duration
	cookies    []*http.Cookie
}

// send sends req with c and reads the whole answer.
func send(t *testing.T, c *http.Client, req *http.Request) answer {
	t.Helper()
	start := time.Now()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{status: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After"), body: string(b), took: time.Since(start), cookies: resp.Cookies()}
}

// basic requests path with HTTP basic credentials and header pairs.
func basic(t *testing.T, c *http.Client, base, method, path, name, password string, header ...string) answer {
	t.Helper()
	var body io.Reader
	if method == "POST" {
		body = strings.NewReader(`{"max_results": 10}`)
	}
	req, _ := http.NewRequest(method, base+path, body)
	req.SetBasicAuth(name, password)
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return send(t, c, req)
}

// formLogin posts the web sign-in form.
func formLogin(t *testing.T, c *http.Client, base, name, password string) answer {
	t.Helper()
	req, _ := http.NewRequest("POST", base+"/login", strings.NewReader(url.Values{"name": {name}, "password": {password}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return send(t, c, req)
}

// slowHash gives the fixture user a password hash that costs a few times
// the production argon2id (the parameters are read from each hash), so
// that a response which ran argon2id is told apart by its time.
func slowHash(t *testing.T, a *apptest.App, name string) {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, a.Config.DB, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	u, err := db.FindUserByName(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	if u.PasswordHash, err = auth.HashPassword(apptest.Password, auth.HashParams{Memory: 19 * 1024, Time: 6, Threads: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.UpdateUserRevoking(ctx, u, auth.Revocation{}); err != nil {
		t.Fatal(err)
	}
}

// TestLoginThrottle is issue 11's lockout abuse from both sides: an
// attacker at 127.0.0.2 bursts wrong passwords at the owner's name (and
// claims other addresses in X-Forwarded-For, which nobody trusts by
// default); after 5 failures every further guess gets 429 with
// Retry-After at once, without argon2id. The owner at 127.0.0.3 signs in
// meanwhile with the form, with HTTP basic, and with an MLflow client's
// basic credentials.
func TestLoginThrottle(t *testing.T) { apptest.Backends(t, testLoginThrottle) }

func testLoginThrottle(t *testing.T, b apptest.Backend) {
	a := apptest.Start(t, b)
	slowHash(t, a, "owner")
	attacker, owner := from("127.0.0.2"), from("127.0.0.3")

	var slowest, fastestArgon time.Duration = 0, time.Hour
	for i := range 12 {
		ans := basic(t, attacker, a.URL, "GET", "/api/v1/me", "owner", fmt.Sprintf("guess number %d", i), "X-Forwarded-For", fmt.Sprintf("203.0.113.%d", i))
		switch {
		case i < 5:
			if ans.status != http.StatusUnauthorized {
				t.Fatalf("guess %d: status %d, want 401: %s", i+1, ans.status, ans.body)
			}
			fastestArgon = min(fastestArgon, ans.took)
		default:
			if ans.status != http.StatusTooManyRequests {
				t.Fatalf("guess %d: status %d, want 429: %s", i+1, ans.status, ans.body)
			}
			if s, err := strconv.Atoi(ans.retryAfter); err != nil || s < 1 || s > 15*60 {
				t.Fatalf("guess %d: Retry-After %q, want 1 to 900 seconds", i+1, ans.retryAfter)
			}
			slowest = max(slowest, ans.took)
		}
	}
	// A throttled answer costs a database read, not an argon2id run.
	t.Logf("answers with argon2id took at least %v, throttled answers at most %v", fastestArgon, slowest)
	if slowest > fastestArgon/4 {
		t.Errorf("slowest throttled answer took %v, a wrong password with argon2id at least %v: throttled answers ran argon2id", slowest, fastestArgon)
	}
	// The right password from the attacker's address is throttled too, so
	// a throttled answer tells nothing about the guess.
	if ans := basic(t, attacker, a.URL, "GET", "/api/v1/me", "owner", apptest.Password); ans.status != http.StatusTooManyRequests {
		t.Errorf("right password from the throttled address: %d, want 429", ans.status)
	}
	// The form says so plainly; MLflow clients get 429 and Retry-After.
	if ans := formLogin(t, attacker, a.URL, "owner", "one more guess"); ans.status != http.StatusTooManyRequests ||
		!strings.Contains(ans.body, "Too many failed sign-in attempts") || ans.retryAfter == "" {
		t.Errorf("form from the throttled address: %d Retry-After %q: %.300s", ans.status, ans.retryAfter, ans.body)
	}
	if ans := basic(t, attacker, a.URL, "POST", "/p/BAL/api/2.0/mlflow/experiments/search", "owner", "mlflow guess"); ans.status != http.StatusTooManyRequests || ans.retryAfter == "" {
		t.Errorf("MLflow call from the throttled address: %d Retry-After %q: %.300s", ans.status, ans.retryAfter, ans.body)
	}

	// Meanwhile the owner, from their own address, signs in at once.
	ans := formLogin(t, owner, a.URL, "owner", apptest.Password)
	if ans.status != http.StatusSeeOther || len(ans.cookies) == 0 {
		t.Errorf("owner's form sign-in during the attack: %d: %.300s", ans.status, ans.body)
	}
	if ans := basic(t, owner, a.URL, "GET", "/api/v1/me", "owner", apptest.Password); ans.status != http.StatusOK {
		t.Errorf("owner's basic auth during the attack: %d: %.300s", ans.status, ans.body)
	}
	for i := range 3 {
		if ans := basic(t, owner, a.URL, "POST", "/p/BAL/api/2.0/mlflow/experiments/search", "owner", apptest.Password); ans.status != http.StatusOK {
			t.Errorf("owner's MLflow client, call %d during the attack: %d: %.300s", i+1, ans.status, ans.body)
		}
	}
	// The owner's success does not lift the attacker's throttle.
	if ans := basic(t, attacker, a.URL, "GET", "/api/v1/me", "owner", "after the owner"); ans.status != http.StatusTooManyRequests {
		t.Errorf("attacker after the owner signed in: %d, want 429", ans.status)
	}
}

// TestLoginCeilingAlerts spreads 100 wrong passwords for one name over 20
// addresses, 5 each (within every address's budget): the name's ceiling
// does not lock the owner out but alerts, with a log line, a metric and an
// entry in the instance admins' inbox.
func TestLoginCeilingAlerts(t *testing.T) { apptest.Backends(t, testLoginCeilingAlerts) }

func testLoginCeilingAlerts(t *testing.T, b apptest.Backend) {
	a := apptest.Start(t, b)
	for i := range 20 {
		c := from(fmt.Sprintf("127.0.0.%d", 10+i))
		for j := range 5 {
			if ans := basic(t, c, a.URL, "GET", "/api/v1/me", "owner", fmt.Sprintf("sprayed guess %d-%d", i, j)); ans.status != http.StatusUnauthorized {
				t.Fatalf("address %d guess %d: %d, want 401: %s", i, j, ans.status, ans.body)
			}
		}
	}
	if ans := basic(t, from("127.0.0.3"), a.URL, "GET", "/api/v1/me", "owner", apptest.Password); ans.status != http.StatusOK {
		t.Errorf("owner after the ceiling: %d, want 200: %s", ans.status, ans.body)
	}

	logs := a.Logs()
	var alerts []string
	for _, line := range strings.Split(logs, "\n") {
		if strings.Contains(line, "level=WARN") && strings.Contains(line, "user=owner") && strings.Contains(line, "failures=100") {
			alerts = append(alerts, line)
		}
	}
	if len(alerts) != 1 {
		t.Errorf("%d warnings naming owner with failures=100, want 1: %v", len(alerts), alerts)
	}
	if strings.Contains(logs, "sprayed guess") {
		t.Error("a password reached the log")
	}
	status, metrics := a.Do("root", "GET", "/metrics", nil)
	if status != http.StatusOK || !strings.Contains(string(metrics), "trellis_login_ceiling_alerts_total 1\n") {
		t.Errorf("/metrics = %d without trellis_login_ceiling_alerts_total 1", status)
	}
	var inbox struct {
		Notifications []struct{ Kind, Text string }
	}
	a.MustCall("root", "GET", "/api/v1/inbox", "", &inbox)
	if len(inbox.Notifications) != 1 || inbox.Notifications[0].Kind != "security" ||
		!strings.Contains(inbox.Notifications[0].Text, `"owner"`) || !strings.Contains(inbox.Notifications[0].Text, "100") {
		t.Errorf("root's inbox = %+v, want one security notification about owner's 100 failures", inbox.Notifications)
	}
	a.MustCall("owner", "GET", "/api/v1/inbox", "", &inbox)
	if len(inbox.Notifications) != 0 {
		t.Errorf("a non-admin's inbox = %+v, want empty", inbox.Notifications)
	}
}

// TestTrustedProxy reads the client's address from X-Forwarded-For only
// when the connection comes from a proxy the operator named: the
// rightmost address the trusted proxies did not add.
func TestTrustedProxy(t *testing.T) {
	a := apptest.Start(t, apptest.SQLite, func(c *cli.Config) { c.TrustedProxies = []string{"127.0.0.1/32", "127.0.0.4/32"} })
	proxy := from("127.0.0.1")
	for i := range 5 {
		// The first hop is the attacker's own claim; the proxies append
		// what they saw.
		xff := fmt.Sprintf("198.51.100.%d, 203.0.113.7, 127.0.0.4", i)
		if ans := basic(t, proxy, a.URL, "GET", "/api/v1/me", "owner", "proxied guess", "X-Forwarded-For", xff); ans.status != http.StatusUnauthorized {
			t.Fatalf("guess %d: %d, want 401", i+1, ans.status)
		}
	}
	if ans := basic(t, proxy, a.URL, "GET", "/api/v1/me", "owner", "proxied guess", "X-Forwarded-For", "203.0.113.7"); ans.status != http.StatusTooManyRequests {
		t.Errorf("sixth guess from 203.0.113.7 through the proxy: %d, want 429", ans.status)
	}
	if ans := basic(t, proxy, a.URL, "GET", "/api/v1/me", "owner", apptest.Password, "X-Forwarded-For", "203.0.113.8"); ans.status != http.StatusOK {
		t.Errorf("owner at 203.0.113.8 through the proxy: %d, want 200", ans.status)
	}
	// An untrusted peer's X-Forwarded-For is ignored: it is counted as
	// itself, whatever it claims.
	direct := from("127.0.0.5")
	for i := range 6 {
		want := http.StatusUnauthorized
		if i == 5 {
			want = http.StatusTooManyRequests
		}
		if ans := basic(t, direct, a.URL, "GET", "/api/v1/me", "editor", "direct guess", "X-Forwarded-For", fmt.Sprintf("198.51.100.%d", i)); ans.status != want {
			t.Errorf("direct guess %d with a forged X-Forwarded-For: %d, want %d", i+1, ans.status, want)
		}
	}
}
