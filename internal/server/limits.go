package server

import (
	"errors"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/trellisml/trellis/internal/auth"
	"github.com/trellisml/trellis/internal/route"
)

// Limits bound what slow and anonymous clients can hold. Zero fields take
// the defaults of DefaultLimits.
type Limits struct {
	// BodyTimeout is how long a form or JSON body may take to arrive,
	// whole, from the end of the request headers.
	BodyTimeout time.Duration
	// An upload (a route marked Upload: artifact bytes) must keep moving:
	// its read deadline starts UploadWindow after its first read and moves
	// UploadWindow ahead each time UploadMinRate × UploadWindow more bytes
	// arrived, up to UploadTimeout after the first read.
	UploadWindow  time.Duration
	UploadMinRate int64 // bytes per second
	UploadTimeout time.Duration
	// MaxAnonymous is how many requests without valid credentials may be
	// in flight at once; more are answered 503 with Retry-After.
	MaxAnonymous int
}

// DefaultLimits are the limits a server runs with.
var DefaultLimits = Limits{
	BodyTimeout:   30 * time.Second,
	UploadWindow:  30 * time.Second,
	UploadMinRate: 16 << 10,
	UploadTimeout: time.Hour,
	MaxAnonymous:  64,
}

// withDefaults fills the zero fields of l from DefaultLimits.
func (l Limits) withDefaults() Limits {
	d := DefaultLimits
	if l.BodyTimeout == 0 {
		l.BodyTimeout = d.BodyTimeout
	}
	if l.UploadWindow == 0 {
		l.UploadWindow = d.UploadWindow
	}
	if l.UploadMinRate == 0 {
		l.UploadMinRate = d.UploadMinRate
	}
	if l.UploadTimeout == 0 {
		l.UploadTimeout = d.UploadTimeout
	}
	if l.MaxAnonymous == 0 {
		l.MaxAnonymous = d.MaxAnonymous
	}
	return l
}

// body is a request body read under the deadline of its route's class. The
// connection's read deadline is set through http.ResponseController: the
// form deadline when the request starts; for an upload, the first read
// switches to the progress-based one (the route guard has set info.Upload
// by then). It remembers the first read error, which is always the
// client's: the body broke off, or did not arrive in time.
type body struct {
	io.ReadCloser
	rc     *http.ResponseController
	info   *route.Info
	lim    *Limits
	upload bool      // the progress-based deadline is in force
	end    time.Time // the upload's total cap
	need   int64     // bytes that move the deadline: UploadMinRate × UploadWindow
	got    int64     // bytes since the deadline last moved
	err    error
}

// newBody wraps r's body, if it has one, and sets the form deadline.
func newBody(w http.ResponseWriter, r *http.Request, info *route.Info, lim *Limits, start time.Time) *body {
	if r.Body == nil || r.Body == http.NoBody {
		return nil
	}
	b := &body{ReadCloser: r.Body, rc: http.NewResponseController(w), info: info, lim: lim}
	// httptest's recorder cannot set deadlines; a real connection can.
	_ = b.rc.SetReadDeadline(start.Add(lim.BodyTimeout))
	return b
}

func (b *body) Read(p []byte) (int, error) {
	if !b.upload && b.info.Upload {
		b.upload = true
		now := time.Now()
		b.end = now.Add(b.lim.UploadTimeout)
		b.need = max(1, int64(float64(b.lim.UploadMinRate)*b.lim.UploadWindow.Seconds()))
		b.extend(now)
	}
	n, err := b.ReadCloser.Read(p)
	if b.upload && n > 0 {
		if b.got += int64(n); b.got >= b.need {
			b.got = 0
			b.extend(time.Now())
		}
	}
	// At EOF net/http clears the read deadline itself (it starts the
	// background read that notices a client leaving), so the handler's
	// work after the body is never cut.
	if err != nil && err != io.EOF && b.err == nil {
		b.err = err
	}
	return n, err
}

// extend moves an upload's deadline one window past now, never past its cap.
func (b *body) extend(now time.Time) {
	d := now.Add(b.lim.UploadWindow)
	if d.After(b.end) {
		d = b.end
	}
	_ = b.rc.SetReadDeadline(d)
}

// Status labels of requests the client ended, for the log and the metrics:
// these are not server errors.
const (
	statusClientTooSlow = http.StatusRequestTimeout // the body did not arrive within its deadline
	statusClientGone    = 499                       // the client went away (nginx's code)
)

// countedStatus is the status a request is logged and counted under: the
// status sent, unless the client ended the request — its body broke off or
// came too slowly, its connection closed, a write to it failed.
func countedStatus(r *http.Request, b *body, sw *statusWriter) int {
	switch {
	case b != nil && errors.Is(b.err, os.ErrDeadlineExceeded):
		return statusClientTooSlow
	case b != nil && b.err != nil, r.Context().Err() != nil, sw.writeErr:
		return statusClientGone
	}
	return sw.status
}

// limitAnonymous caps the requests in flight without valid credentials
// (anonymous callers and callers whose credentials failed), so that slow
// anonymous clients cannot hold every connection the server can serve;
// signed-in callers are never refused.
func (s *Server) limitAnonymous(next http.Handler) http.Handler {
	slots := make(chan struct{}, s.limits.MaxAnonymous)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if auth.FromContext(r.Context()) != nil {
			next.ServeHTTP(w, r)
			return
		}
		select {
		case slots <- struct{}{}:
			defer func() { <-slots }()
			next.ServeHTTP(w, r)
		default:
			s.metrics.anonymousRefused.Inc()
			w.Header().Set("Retry-After", "5")
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, `{"error":{"code":"unavailable","message":"Too many requests without credentials are in flight; retry in a few seconds, or sign in."}}`+"\n")
		}
	})
}
