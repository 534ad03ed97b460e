package web

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/trellisml/trellis/internal/trellis"
)

func TestWriteError(t *testing.T) {
	e := newEnv(t)
	cases := []struct {
		err    error
		status int
	}{
		{trellis.Errorf(trellis.EINVALID, "bad"), 400},
		{trellis.Errorf(trellis.EFORBIDDEN, "no"), 403},
		{trellis.Errorf(trellis.ENOTFOUND, "gone fishing"), 404},
		{trellis.Errorf(trellis.ECONFLICT, "clash"), 409},
		{trellis.Errorf(trellis.EGONE, "used"), 410},
		{trellis.Errorf(trellis.ETOOLARGE, "big"), 413},
		{trellis.Errorf(trellis.ETOOMANY, "slow"), 429},
		{trellis.Errorf(trellis.EUNAVAILABLE, "later"), 503},
		{trellis.Errorf(trellis.EINTERNAL, "db password is hunter2"), 500},
		{io.ErrUnexpectedEOF, 500},
	}
	for _, c := range cases {
		w := httptest.NewRecorder()
		e.ui.writeError(w, httptest.NewRequest("POST", "/x", nil), c.err)
		if w.Code != c.status {
			t.Errorf("%v: status %d, want %d", c.err, w.Code, c.status)
		}
		if c.status == 500 {
			wantNoBody(t, w, "hunter2", "unexpected EOF")
			wantBody(t, w, "Something went wrong")
		} else {
			wantBody(t, w, trellis.ErrorMessage(c.err))
		}
	}
	if logs := e.logs.String(); !strings.Contains(logs, "hunter2") || !strings.Contains(logs, "unexpected EOF") {
		t.Errorf("500s not logged: %s", logs)
	}

	// htmx gets a notice, not a page to swap in.
	w := httptest.NewRecorder()
	r := httptest.NewRequest("POST", "/x", nil)
	r.Header.Set("HX-Request", "true")
	e.ui.writeError(w, r, trellis.Errorf(trellis.EFORBIDDEN, "no"))
	if w.Code != 403 || w.Body.String() != "no" || w.Header().Get("HX-Reswap") != "none" {
		t.Errorf("htmx error: %d %q %v", w.Code, w.Body.String(), w.Header())
	}
}

func TestTooLargeForm(t *testing.T) {
	e := newEnv(t)
	s := e.mustUser("alice", false)
	w := e.post("/projects/new", s, url.Values{"key": {"BIG"}, "name": {"x"}, "description": {strings.Repeat("a", 2<<20)}})
	wantStatus(t, w, http.StatusRequestEntityTooLarge)
}
