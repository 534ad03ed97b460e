package web

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/trellisml/trellis/internal/route"
	"github.com/trellisml/trellis/internal/trellis"
)

// headings title the error page; the message below says what happened.
var headings = map[int]string{
	http.StatusBadRequest:            "That did not work",
	http.StatusUnauthorized:          "Sign in required",
	http.StatusForbidden:             "Not allowed",
	http.StatusNotFound:              "Not found",
	http.StatusConflict:              "Conflict",
	http.StatusGone:                  "No longer valid",
	http.StatusRequestEntityTooLarge: "Too large",
	http.StatusTooManyRequests:       "Slow down",
	http.StatusServiceUnavailable:    "Unavailable",
	http.StatusInternalServerError:   "Something went wrong",
}

type errorView struct {
	layout
	Status  int
	Heading string
	Message string
}

// writeError is the surface's one error writer. A signed-out browser asking
// for a page is sent to sign in and brought back; everything else gets an
// error page with the status the code calls for.
func (ui *UI) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status := route.Status(err)
	msg := trellis.ErrorMessage(err)
	if status == http.StatusInternalServerError {
		ui.log.ErrorContext(r.Context(), "web: internal error", "method", r.Method, "path", r.URL.Path, "err", err)
		msg = "Something went wrong on our side. The error has been logged; please try again."
	}
	if status == http.StatusUnauthorized {
		// A stale cookie would otherwise ride along on every request.
		if _, cerr := r.Cookie(SessionCookie); cerr == nil {
			ui.clearSessionCookie(w, r)
		}
		to := "/login"
		if next := localPath(r.URL.RequestURI()); next != "" && next != "/" {
			to += "?next=" + url.QueryEscape(next)
		}
		if isHTMX(r) {
			w.Header().Set("HX-Redirect", to)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			http.Redirect(w, r, to, http.StatusSeeOther)
			return
		}
	}
	if isHTMX(r) {
		// htmx swaps page fragments; a whole error page would land inside
		// one. A short text for app.js to show as a notice fits instead.
		w.Header().Set("HX-Reswap", "none")
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(msg))
		return
	}
	page := &errorView{layout: ui.base(r, headings[status], ""), Status: status, Heading: headings[status], Message: msg}
	if rerr := ui.render(w, status, "error", page); rerr != nil {
		ui.log.ErrorContext(r.Context(), "web: render error page", "err", rerr)
		http.Error(w, msg, status)
	}
}

// notFound answers every path no other route claims.
func (ui *UI) notFound(w http.ResponseWriter, r *http.Request) error {
	return trellis.Errorf(trellis.ENOTFOUND, "There is no page at this address.")
}

func isHTMX(r *http.Request) bool { return r.Header.Get("HX-Request") == "true" }

// parseForm reads a posted form; a body over the surface's limit becomes
// ETOOLARGE instead of an internal error.
func parseForm(r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return trellis.Errorf(trellis.ETOOLARGE, "The form is too large.")
		}
		return trellis.Errorf(trellis.EINVALID, "The form could not be read.")
	}
	return nil
}

// formStatuses are the errors a form shows next to its inputs; any other
// error is not the user's input and goes to the error page.
var formStatuses = map[string]int{
	trellis.EINVALID:  http.StatusBadRequest,
	trellis.ECONFLICT: http.StatusConflict,
	trellis.ETOOMANY:  http.StatusTooManyRequests,
}

// formError records err in f, the service's field names translated by
// fields (service field → input name; unlisted fields show at the top). It
// returns the status to re-render with, and false when err is not a form
// error.
func formError(f *form, err error, fields map[string]string) (int, bool) {
	status, ok := formStatuses[trellis.ErrorCode(err)]
	if !ok {
		return 0, false
	}
	field := trellis.ErrorField(err)
	if in, known := fields[field]; known {
		field = in
	} else {
		field = ""
	}
	f.fail(field, userMessage(err))
	return status, true
}

// choices are the service fields whose values a form offers as a select or
// radio buttons, with the words the UI shows for them. The services name
// their stored values in messages ("outcome must be productionize, abandon
// or more_research"), which suits the JSON API; a form says what its own
// controls say.
var choices = map[string]string{
	"outcome": "Choose a decision: Productionize, Abandon or More research.",
	"verdict": "Choose a hypothesis verdict: supported, refuted or inconclusive.",
	"kind":    "Choose a kind: research, experiment, development or maintenance.",
	"type":    "Choose how the items relate: blocks, relates to or is a follow-up of.",
	"role":    "Choose a role: viewer, editor or admin.",
	"scope":   "Choose a scope: read or write.",
}

// fieldWords are the service field names a message may start with, as a
// label reads them.
var fieldWords = map[string]string{
	"time_box":        "Time box",
	"success_metrics": "Success metrics",
	"starts_on":       "The start date",
	"ends_on":         "The end date",
	"dataset_version": "Dataset version",
	"run_tag":         "Run tag",
}

// userMessage is err's message as a form shows it (see formMessage).
func userMessage(err error) string {
	return formMessage(trellis.ErrorField(err), trellis.ErrorMessage(err))
}

// formMessage is the service's message for field in the words of the form:
// a refused choice names the choices as the form shows them, a message that
// starts with a field's stored name starts with its label instead, and one
// prefixed "field: " loses the prefix (it is shown beside that field).
func formMessage(field, msg string) string {
	if c, ok := choices[field]; ok && strings.Contains(msg, " must be ") {
		return c
	}
	if rest, found := strings.CutPrefix(msg, field+": "); found && field != "" {
		// "to: no item BAL-99": the message sits beside the field it names.
		return rest
	}
	if words, ok := fieldWords[field]; ok {
		if rest, found := strings.CutPrefix(msg, field+" "); found {
			return words + " " + rest
		}
	}
	return msg
}
