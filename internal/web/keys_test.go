package web

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestKeys checks that every page loads static/keys.js, that "g" and a
// letter reaches every page of the menu, and that the help dialog lists
// every shortcut keys.js takes.
func TestKeys(t *testing.T) {
	src, err := os.ReadFile("static/keys.js")
	if err != nil {
		t.Fatal(err)
	}
	jumps := func(name string) map[string]string {
		m := regexp.MustCompile(`(?s)var ` + name + ` = \{(.*?)\};`).FindSubmatch(src)
		if m == nil {
			t.Fatalf("keys.js has no %s map", name)
		}
		out := map[string]string{}
		for _, e := range regexp.MustCompile(`(\w|'[^']+'): '([^']*)'`).FindAllSubmatch(m[1], -1) {
			out[strings.Trim(string(e[1]), "'")] = string(e[2])
		}
		return out
	}
	global, inProject := jumps("GLOBAL"), jumps("IN_PROJECT")

	e := newEnv(t)
	s := e.mustUser("root", false)
	e.mustProject(s, "KEY", "Keys")
	w := e.get("/p/KEY/backlog", s)
	wantStatus(t, w, 200)
	body := w.Body.String()
	if !regexp.MustCompile(`<script src="/static/keys\.[0-9a-f]+\.js" defer></script>`).MatchString(body) {
		t.Error("the layout does not load keys.js")
	}
	help := body[strings.Index(body, `<dialog id="shortcuts"`):]
	help = help[:strings.Index(help, "</dialog>")]
	for _, k := range []string{"<kbd>K</kbd>", "<kbd>/</kbd>", "<kbd>c</kbd>", "<kbd>j</kbd> <kbd>k</kbd>", "<kbd>Enter</kbd>", "<kbd>t</kbd>", "<kbd>?</kbd>"} {
		if !strings.Contains(help, k) {
			t.Errorf("the help does not list %s", k)
		}
	}
	for k, to := range global {
		if !strings.Contains(help, "<kbd>g</kbd> <kbd>"+k+"</kbd>") {
			t.Errorf("the help does not list g %s (%s)", k, to)
		}
	}
	for k, to := range inProject {
		if !strings.Contains(help, "<kbd>g</kbd> <kbd>"+k+"</kbd>") {
			t.Errorf("the help does not list g %s (%s)", k, to)
		}
	}

	// Every page of both menus has its "g" letter.
	targets := map[string]bool{}
	for _, to := range global {
		targets[to] = true
	}
	for _, to := range inProject {
		targets["/p/KEY"+to] = true
	}
	nav := body[strings.Index(body, `<aside class="sidebar">`):]
	nav = nav[:strings.Index(nav, `<div class="sidebar-foot">`)]
	for _, m := range regexp.MustCompile(`<nav[^>]*>(?s:.*?)</nav>`).FindAllString(nav, -1) {
		for _, h := range regexp.MustCompile(`href="([^"]+)"`).FindAllStringSubmatch(m, -1) {
			if !targets[h[1]] {
				t.Errorf("no g shortcut reaches the menu entry %s", h[1])
			}
		}
	}
}
