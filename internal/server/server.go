// Package server is the HTTP server: it mounts the surfaces (JSON API,
// MLflow API, web UI, operations endpoints) on one ServeMux and wraps them in
// the middleware every request passes: recovery, request id, logging,
// metrics, security headers, cross-origin protection and authentication.
package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/trellisml/trellis/internal/auth"
	"github.com/trellisml/trellis/internal/route"
	"github.com/trellisml/trellis/internal/trellis"
)

// Pinger reports whether the store answers; /readyz uses it.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Options configure a Server.
type Options struct {
	Addr          string // listen address, e.g. 127.0.0.1:8420 (":0" picks a port)
	Logger        *slog.Logger
	Auth          *auth.Service
	Store         Pinger
	SessionCookie string // the cookie the web UI sets
	Surfaces      []route.Surface
	// TrustedProxies are the peers whose X-Forwarded-For names the client
	// (--trusted-proxy); with none, the client is the connection's peer.
	TrustedProxies []netip.Prefix
	Limits         Limits // zero fields: DefaultLimits
}

// Server is a configured HTTP server.
type Server struct {
	opts     Options
	log      *slog.Logger
	http     *http.Server
	listener net.Listener
	handler  http.Handler
	routes   []Registered
	metrics  *metrics
	limits   Limits
}

// Registered is one mounted route, for listing and for the test that every
// route carries an authorization rule.
type Registered struct {
	Surface string
	Method  string
	Pattern string
	Access  route.Access
	Upload  bool
}

// New builds the server and its routing; it does not listen yet.
func New(opts Options) *Server {
	s := &Server{opts: opts, log: opts.Logger, metrics: newMetrics(), limits: opts.Limits.withDefaults()}
	mux := http.NewServeMux()
	surfaces := append([]route.Surface{s.opsSurface()}, opts.Surfaces...)
	for _, sf := range surfaces {
		sf.Register(mux)
		for _, rt := range sf.Routes {
			s.routes = append(s.routes, Registered{Surface: sf.Name, Method: rt.Method, Pattern: sf.Prefix + rt.Pattern, Access: rt.Access, Upload: rt.Upload})
		}
	}
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "Cross-origin request refused: unsafe methods must come from this site.", http.StatusForbidden)
	}))
	var h http.Handler = mux
	h = s.limitAnonymous(h)
	h = s.authenticate(h)
	h = cop.Handler(h)
	h = securityHeaders(h)
	h = s.observe(h)
	s.handler = h
	// Bodies have per-route deadlines (limits.go) rather than a ReadTimeout,
	// which would cut long uploads; there is no WriteTimeout, which would
	// cut artifact downloads, and only signed-in callers can start one.
	s.http = &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(opts.Logger.Handler(), slog.LevelWarn),
	}
	return s
}

// Handler returns the whole middleware-wrapped handler, for tests.
func (s *Server) Handler() http.Handler { return s.handler }

// Routes lists every mounted route.
func (s *Server) Routes() []Registered { return s.routes }

// Listen binds the address, so that the caller knows the URL (":0" picks a
// free port) before Serve starts.
func (s *Server) Listen() (net.Addr, error) {
	l, err := net.Listen("tcp", s.opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", s.opts.Addr, err)
	}
	s.listener = l
	return l.Addr(), nil
}

// UseListener takes over the listener another Server bound, so that the
// address (and so the base URL) is known before the surfaces are built.
func (s *Server) UseListener(from *Server) {
	s.listener, from.listener = from.listener, nil
}

// Serve serves until ctx is cancelled, then shuts down gracefully: it stops
// accepting, lets in-flight requests finish for up to 20 seconds, and returns.
func (s *Server) Serve(ctx context.Context) error {
	if s.listener == nil {
		if _, err := s.Listen(); err != nil {
			return err
		}
	}
	errc := make(chan error, 1)
	go func() { errc <- s.http.Serve(s.listener) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.log.Info("shutting down; finishing in-flight requests")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := s.http.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// opsSurface holds the operational endpoints.
func (s *Server) opsSurface() route.Surface {
	prom := promhttp.HandlerFor(s.metrics.registry, promhttp.HandlerOpts{})
	return route.Surface{
		Name: "ops",
		WriteError: func(w http.ResponseWriter, r *http.Request, err error) {
			http.Error(w, trellis.ErrorMessage(err), route.Status(err))
		},
		Routes: []route.Route{
			{Method: "GET", Pattern: "/healthz", Access: route.Public, Handler: func(w http.ResponseWriter, r *http.Request) error {
				_, err := w.Write([]byte("ok\n"))
				return err
			}},
			{Method: "GET", Pattern: "/readyz", Access: route.Public, Handler: func(w http.ResponseWriter, r *http.Request) error {
				ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
				defer cancel()
				if err := s.opts.Store.Ping(ctx); err != nil {
					s.log.WarnContext(r.Context(), "not ready", "err", err)
					return trellis.Errorf(trellis.EUNAVAILABLE, "store unreachable")
				}
				_, err := w.Write([]byte("ready\n"))
				return err
			}},
			// Metrics reveal usage patterns, so they need an instance admin
			// (a read-scoped token works for a Prometheus scraper).
			{Method: "GET", Pattern: "/metrics", Access: route.InstanceAdmin, Handler: func(w http.ResponseWriter, r *http.Request) error {
				prom.ServeHTTP(w, r)
				return nil
			}},
		},
	}
}

// securityHeaders sets the headers every response carries. The CSP allows
// only same-origin scripts and styles: no inline code, so an injected tag
// cannot run.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		// The value slices are shared by every response, which saves five
		// allocations a request; http.Header's methods replace or append
		// (copying, as each has no spare capacity), never write into them.
		for _, kv := range staticHeaders {
			h[kv.key] = kv.value
		}
		if r.TLS != nil {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		next.ServeHTTP(w, r)
	})
}

var staticHeaders = []struct {
	key   string
	value []string
}{
	{"Content-Security-Policy", []string{"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"}},
	{"X-Content-Type-Options", []string{"nosniff"}},
	{"X-Frame-Options", []string{"DENY"}},
	{"Referrer-Policy", []string{"same-origin"}},
	{"Cross-Origin-Opener-Policy", []string{"same-origin"}},
}

// authenticate resolves the caller from a bearer token, HTTP basic
// credentials or the session cookie, in that order. Credentials that are
// present but wrong are remembered as an error for the route guard, so a
// protected route answers 401 (or 429 with Retry-After while the client's
// address must wait after failed passwords) instead of treating the caller
// as anonymous; a stale session cookie just means anonymous. The client's
// address goes into the context for the sign-in throttle.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := auth.WithClientAddr(r.Context(), s.clientAddr(r))
		var p *auth.Principal
		var err error
		if h := r.Header.Get("Authorization"); h != "" {
			if tok, ok := strings.CutPrefix(h, "Bearer "); ok {
				p, err = s.opts.Auth.AuthenticateToken(ctx, strings.TrimSpace(tok))
			} else if name, secret, ok := r.BasicAuth(); ok {
				p, err = s.opts.Auth.AuthenticateBasic(ctx, name, secret)
			} else {
				err = trellis.Errorf(trellis.EUNAUTHENTICATED, "Unsupported Authorization header; use Bearer or Basic.")
			}
		} else if c, cerr := r.Cookie(s.opts.SessionCookie); cerr == nil {
			p, err = s.opts.Auth.AuthenticateSession(ctx, c.Value)
			if trellis.ErrorCode(err) == trellis.EUNAUTHENTICATED {
				err = nil
			}
		}
		switch {
		case err != nil:
			if secs, ok := auth.RetryAfter(err); ok {
				w.Header().Set("Retry-After", strconv.Itoa(secs))
			}
			ctx = route.WithCredentialError(ctx, err)
		case p != nil:
			ctx = auth.NewContext(ctx, p)
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// clientAddr is the address the request comes from: the connection's peer,
// or, when the peer is a trusted proxy, the rightmost address in
// X-Forwarded-For that no trusted proxy added (everything left of it is
// the client's own claim). Without trusted proxies the header is ignored,
// so a client cannot pick its address.
func (s *Server) clientAddr(r *http.Request) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	addr := ap.Addr().Unmap()
	if !s.trusted(addr) {
		return addr
	}
	hops := r.Header.Values("X-Forwarded-For")
	for i := len(hops) - 1; i >= 0; i-- {
		h := hops[i]
		for h != "" {
			var hop string
			if j := strings.LastIndexByte(h, ','); j >= 0 {
				h, hop = h[:j], h[j+1:]
			} else {
				h, hop = "", h
			}
			a, ok := parseHop(strings.TrimSpace(hop))
			if !ok {
				return addr // not an address: stop at the last one a proxy vouched for
			}
			if addr = a; !s.trusted(a) {
				return a
			}
		}
	}
	return addr
}

// parseHop parses one X-Forwarded-For entry: an address, with or without
// a port.
func parseHop(v string) (netip.Addr, bool) {
	if a, err := netip.ParseAddr(v); err == nil {
		return a.Unmap(), true
	}
	if ap, err := netip.ParseAddrPort(v); err == nil {
		return ap.Addr().Unmap(), true
	}
	return netip.Addr{}, false
}

func (s *Server) trusted(a netip.Addr) bool {
	for _, p := range s.opts.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// LoginCeilingReached counts an alert of the sign-in throttle: one user name
// reached auth.NameCeiling failures (internal/cli wires it to
// auth.Service.OnLoginCeiling).
func (s *Server) LoginCeilingReached() { s.metrics.loginCeiling.Inc() }

type requestIDKey struct{}

// RequestID returns the id of the request ctx belongs to.
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// statusWriter remembers the status and size for the request log, and
// whether a write failed (the client went away).
type statusWriter struct {
	http.ResponseWriter
	status   int
	bytes    int64
	writeErr bool
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	w.writeErr = w.writeErr || err != nil
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// observe gives each request an id, puts its body under the deadline of its
// route class, logs one line when it ends, records its metrics, and turns a
// panic into a logged 500 that names the request id. A request the client
// ended is logged and counted as 408 (its body came too slowly) or 499 (it
// went away), never as the 5xx its handler may have answered.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := newRequestID()
		info := &route.Info{}
		ctx := context.WithValue(r.Context(), requestIDKey{}, id)
		ctx = route.WithInfo(ctx, info)
		w.Header().Set("X-Request-Id", id)
		sw := &statusWriter{ResponseWriter: w}
		r2 := r.WithContext(ctx)
		b := newBody(w, r, info, &s.limits, start)
		if b != nil {
			r2.Body = b
		}
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.ErrorContext(ctx, "panic", "request_id", id, "method", r.Method, "path", r.URL.Path, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
				if sw.status == 0 {
					sw.Header().Set("Content-Type", "application/json")
					sw.WriteHeader(http.StatusInternalServerError)
					fmt.Fprintf(sw, `{"error":{"code":"internal","message":"Internal error (request id %s)."}}`+"\n", id)
				}
			}
			if sw.status == 0 {
				sw.status = http.StatusOK
			}
			elapsed := time.Since(start)
			status := countedStatus(r, b, sw)
			s.metrics.observe(info, r.Method, status, elapsed)
			s.log.LogAttrs(ctx, slog.LevelInfo, "request",
				slog.String("request_id", id), slog.String("method", r.Method), slog.String("path", r.URL.Path),
				slog.Int("status", status), slog.Int64("bytes", sw.bytes), slog.Duration("duration", elapsed),
				slog.String("user", info.User), slog.String("route", info.Pattern))
		}()
		next.ServeHTTP(sw, r2)
	})
}

func newRequestID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// metrics are the server's Prometheus collectors, in a registry of their own
// rather than the global one, so two servers in one test process do not clash.
type metrics struct {
	registry         *prometheus.Registry
	requests         *prometheus.CounterVec
	duration         *prometheus.HistogramVec
	anonymousRefused prometheus.Counter
	// loginCeiling counts the user names that reached the sign-in failure
	// ceiling (an alert, not a lockout).
	loginCeiling prometheus.Counter
}

func newMetrics() *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "trellis_http_requests_total", Help: "HTTP requests by surface, route, method and status code; 408: the body came too slowly, 499: the client went away.",
		}, []string{"surface", "route", "method", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "trellis_http_request_duration_seconds", Help: "HTTP request latency by surface and route.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 10},
		}, []string{"surface", "route"}),
		loginCeiling: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "trellis_login_ceiling_alerts_total", Help: "User names that reached the ceiling of failed sign-ins from all addresses within an hour.",
		}),
		anonymousRefused: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "trellis_http_anonymous_refused_total", Help: "Requests without valid credentials refused (503) because the cap on such requests in flight was reached.",
		}),
	}
	m.registry.MustRegister(m.requests, m.duration, m.loginCeiling, m.anonymousRefused, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) observe(info *route.Info, method string, status int, d time.Duration) {
	// Label by route pattern, never by raw path, so label cardinality stays
	// bounded whatever URLs clients send.
	pattern := info.Pattern
	if pattern == "" {
		pattern = "unmatched"
	}
	m.requests.WithLabelValues(info.Surface, pattern, method, strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(info.Surface, pattern).Observe(d.Seconds())
}
