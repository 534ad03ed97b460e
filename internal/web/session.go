package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/trellisml/trellis/internal/auth"
)

// setSessionCookie hands the browser its session. HttpOnly keeps it from
// scripts, SameSite=Lax from cross-site posts; Secure whenever the browser
// reaches us over TLS, directly or through a proxy the BaseURL names.
func (ui *UI) setSessionCookie(w http.ResponseWriter, r *http.Request, value string) {
	http.SetCookie(w, &http.Cookie{
		Name:     SessionCookie,
		Value:    value,
		Path:     "/",
		MaxAge:   int(auth.SessionTTL.Seconds()),
		HttpOnly: true,
		Secure:   ui.secure(r),
		SameSite: http.SameSiteLaxMode,
	})
}

func (ui *UI) clearSessionCookie(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{
		Name:     SessionCookie,
		Value:    "",
		Path:     "/",
		MaxAge:   -1,
		HttpOnly: true,
		Secure:   ui.secure(r),
		SameSite: http.SameSiteLaxMode,
	})
}

func (ui *UI) secure(r *http.Request) bool { return r.TLS != nil || ui.https }

// startSession ends the session the browser came with, if any, before
// handing it a new one: a fresh id on every sign-in defeats session
// fixation, and ending the old one leaves no orphan behind.
func (ui *UI) startSession(w http.ResponseWriter, r *http.Request, value string) {
	if old, err := r.Cookie(SessionCookie); err == nil && old.Value != "" && old.Value != value {
		if err := ui.auth.Logout(r.Context(), old.Value); err != nil {
			ui.log.WarnContext(r.Context(), "web: end previous session", "err", err)
		}
	}
	ui.setSessionCookie(w, r, value)
}

// localPath returns s when it is a path on this site, "" otherwise. Only a
// single leading slash is accepted: "//host" and "/\host" are read by
// browsers as other sites, and control characters are dropped by browsers
// before parsing, which could turn "/\t/host" into "//host".
func localPath(s string) string {
	if s == "" || s[0] != '/' || len(s) > 2048 {
		return ""
	}
	if len(s) > 1 && (s[1] == '/' || s[1] == '\\') {
		return ""
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f || c == '\\' {
			return ""
		}
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || !strings.HasPrefix(u.Path, "/") {
		return ""
	}
	return s
}

// nextOr returns the validated next path, or fallback.
func nextOr(next, fallback string) string {
	if p := localPath(next); p != "" {
		return p
	}
	return fallback
}
