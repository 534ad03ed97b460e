package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/trellisml/trellis/internal/auth"
	"github.com/trellisml/trellis/internal/project"
	"github.com/trellisml/trellis/internal/route"
)

//go:embed templates
var templateFS embed.FS

// layout is what every page's template needs besides its own data; page
// structs embed it so templates reach .User or .Project directly.
type layout struct {
	Title   string
	User    *auth.User       // nil on the sign-in and setup pages
	Project *project.Project // the authorized project on /p/{key} pages
	Active  string           // which navigation entry to highlight
	Flash   string
	Wide    bool // a data page: the main column takes the window's width
}

// wide marks a data page (tables and boards), which uses the whole width
// of the window instead of the reading width.
func (l layout) wide() layout {
	l.Wide = true
	return l
}

// flashes are the only texts a ?ok= parameter can show: echoing query text
// would let a link put words in the product's mouth.
var flashes = map[string]string{
	"signed-out":                      "You have signed out.",
	"password-changed":                "Password changed. Your other sessions have been signed out.",
	"password-changed-tokens-revoked": "Password changed. Your other sessions have been signed out and your API tokens revoked.",
	"token-revoked":                   "Token revoked.",
	"project-saved":                   "Project saved.",
	"project-archived":                "Project archived. It is read-only until you unarchive it.",
	"project-unarchived":              "Project unarchived.",
	"member-saved":                    "Member saved.",
	"member-removed":                  "Member removed.",
	"user-created":                    "User created.",
	"user-disabled":                   "User disabled, signed out everywhere and their API tokens revoked.",
	"user-enabled":                    "User enabled.",
	"user-tokens-revoked":             "Every API token of the user has been revoked.",
	"item-created":                    "Item created.",
	"item-saved":                      "Item saved.",
	"link-added":                      "Link added.",
	"decided":                         "Decision recorded.",
	"decided-follow-up":               "Decision recorded. This is the follow-up item it created.",
	"sprint-created":                  "Sprint planned. Add items to it below.",
	"sprint-planned":                  "Sprint plan updated.",
	"sprint-started":                  "Sprint started.",
	"sprint-closed":                   "Sprint closed.",
	"planning-saved":                  "Planning settings saved.",
	"comment-added":                   "Comment added.",
	"bulk-saved":                      "The selected items were changed.",
	"filter-deleted":                  "Filter deleted.",
	"template-saved":                  "Template saved.",
	"goal-added":                      "Goal added.",
	"goal-deleted":                    "Goal deleted.",
	"goal-changed":                    "Goal changed.",
}

// base fills the layout from the request: the signed-in user, the project a
// project route authorized, and a flash message.
func (ui *UI) base(r *http.Request, title, active string) layout {
	l := layout{Title: title, Active: active, Flash: flashes[r.URL.Query().Get("ok")]}
	if p := auth.FromContext(r.Context()); p != nil {
		l.User = p.User
	}
	l.Project = route.ProjectFrom(r.Context())
	return l
}

// form carries a submitted form back into its template: the values typed
// (never passwords; templates do not echo those), a message per field and
// one for the whole form.
type form struct {
	values  url.Values
	errors  map[string]string
	Message string
}

func newForm(values url.Values) form { return form{values: values, errors: map[string]string{}} }

// Get returns the submitted value of a field.
func (f form) Get(name string) string { return f.values.Get(name) }

// Err returns the message for a field, "" when it is fine.
func (f form) Err(name string) string { return f.errors[name] }

// Checked reports whether a checkbox was submitted on.
func (f form) Checked(name string) bool { return f.values.Get(name) != "" }

func (f *form) fail(field, msg string) {
	if f.errors == nil {
		f.errors = map[string]string{}
	}
	msg = sentence(msg)
	if field == "" {
		f.Message = msg
		return
	}
	f.errors[field] = msg
}

// sentence makes a service message ("name is required") read as a sentence
// next to an input ("Name is required.").
func sentence(msg string) string {
	if msg == "" {
		return msg
	}
	r, n := utf8.DecodeRuneInString(msg)
	msg = string(unicode.ToUpper(r)) + msg[n:]
	if !strings.ContainsAny(msg[len(msg)-1:], ".!?") {
		msg += "."
	}
	return msg
}

// icons are 24×24 stroke paths drawn in currentColor, inlined so that they
// follow the theme and cost no requests.
var icons = map[string]string{
	"logo":        `M5 3v18M12 3v18M19 3v18M3 8l18 8M3 16l18-8`,
	"projects":    `M4 4h6v6H4zM14 4h6v6h-6zM14 14h6v6h-6zM4 14h6v6H4z`,
	"overview":    `M3 10.5 12 3l9 7.5V21h-6v-6H9v6H3z`,
	"backlog":     `M9 6h12M9 12h12M9 18h12M4 6h.01M4 12h.01M4 18h.01`,
	"sprints":     `M21 12a9 9 0 1 1-2.64-6.36M21 3v6h-6`,
	"experiments": `M9 3h6M10 3v6l-5.5 9.5A1.7 1.7 0 0 0 6 21h12a1.7 1.7 0 0 0 1.5-2.5L14 9V3M7.5 15h9`,
	"runs":        `M3 12h4l3-8 4 16 3-8h4`,
	"goals":       `M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18zM12 16a4 4 0 1 0 0-8 4 4 0 0 0 0 8zM12 12h.01`,
	"models":      `M21 16V8l-9-5-9 5v8l9 5zM3.3 7.5 12 12.5l8.7-5M12 22V12.5`,
	"data":        `M12 8c5 0 9-1.3 9-3s-4-3-9-3-9 1.3-9 3 4 3 9 3zM3 5v14c0 1.7 4 3 9 3s9-1.3 9-3V5M3 12c0 1.7 4 3 9 3s9-1.3 9-3`,
	"settings":    `M4 21v-7M4 10V3M12 21v-9M12 8V3M20 21v-5M20 12V3M1 14h6M9 8h6M17 16h6`,
	"admin":       `M12 22s8-4 8-10V5l-8-3-8 3v7c0 6 8 10 8 10z`,
	"account":     `M20 21v-2a4 4 0 0 0-4-4H8a4 4 0 0 0-4 4v2M12 11a4 4 0 1 0 0-8 4 4 0 0 0 0 8z`,
	"theme":       `M21 12.8A9 9 0 1 1 11.2 3a7 7 0 0 0 9.8 9.8z`,
	"signout":     `M9 21H5a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2h4M16 17l5-5-5-5M21 12H9`,
	"keyboard":    `M3 6h18v12H3zM7 10h.01M11 10h.01M15 10h.01M7 14h10`,
	"plus":        `M12 5v14M5 12h14`,
	"board":       `M3 4h5v16H3zM10 4h5v10h-5zM17 4h4v7h-4z`,
	"inbox":       `M22 12h-6l-2 3h-4l-2-3H2M5.5 5h13L22 12v6a2 2 0 0 1-2 2H4a2 2 0 0 1-2-2v-6z`,
}

func icon(name string) (template.HTML, error) {
	d, ok := icons[name]
	if !ok {
		return "", fmt.Errorf("no icon %q", name)
	}
	// The path data are constants above, never user input.
	return template.HTML(`<svg class="icon" viewBox="0 0 24 24" width="16" height="16" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true"><path d="` + d + `"/></svg>`), nil
}

func (ui *UI) funcs() template.FuncMap {
	return template.FuncMap{
		"asset":        ui.assets.url,
		"hasAsset":     ui.assets.has,
		"icon":         icon,
		"capabilities": func() []capability { return capabilities },
		"roles":        func() []auth.Role { return []auth.Role{auth.RoleViewer, auth.RoleEditor, auth.RoleAdmin} },
		"trackingURI":  func(key string) string { return ui.baseURL + "/p/" + key },
		"date": func(t time.Time) string {
			return t.Local().Format("2 Jan 2006")
		},
		"datetime": func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		"join":     strings.Join,
		"dict":     dict,
		"day":      func(t time.Time) string { return t.UTC().Format("2 Jan 2006") },
		"msdate": func(v any) string {
			t, ok := msTime(v)
			if !ok {
				return ""
			}
			return t.Format("2 Jan 2006 15:04")
		},
		"sortArgs":     sortArgs,
		"pageQuery":    pageQuery,
		"goalProgress": goalProgressOf,
		"outcomeLabel": func(o string) string { return outcomeLabels[o] },
	}
}

// parseTemplates gives each page its own template set: the shared layout plus
// that page's file, so that every page can define "content" without clashing.
func (ui *UI) parseTemplates() (map[string]*template.Template, error) {
	// Partials are fragments more than one page uses (item fields, cards).
	shared, err := template.New("").Funcs(ui.funcs()).ParseFS(templateFS, "templates/layout.html", "templates/partials/*.html")
	if err != nil {
		return nil, err
	}
	files, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	pages := map[string]*template.Template{}
	for _, file := range files {
		name := strings.TrimSuffix(path.Base(file), ".html")
		if name == "layout" {
			continue
		}
		t, err := template.Must(shared.Clone()).ParseFS(templateFS, file)
		if err != nil {
			return nil, err
		}
		pages[name] = t
	}
	return pages, nil
}

// render executes a whole page into a buffer first, so that a template error
// becomes a clean 500 instead of half a page.
func (ui *UI) render(w http.ResponseWriter, status int, page string, data any) error {
	t := ui.pages[page]
	if t == nil {
		return fmt.Errorf("render: no page %q", page)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", data); err != nil {
		return fmt.Errorf("render %s: %w", page, err)
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	// Pages show private data (and once, a token secret): keep them out of
	// every cache, the back-forward cache included.
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, err := w.Write(buf.Bytes())
	return err
}

// redirect answers a form post with 303 See Other, so that reloading the
// result page does not submit the form again.
func redirect(w http.ResponseWriter, r *http.Request, to string) error {
	http.Redirect(w, r, to, http.StatusSeeOther)
	return nil
}

// dict builds a map from key/value pairs so that a template can pass more
// than one value to a sub-template.
func dict(kv ...any) (map[string]any, error) {
	if len(kv)%2 != 0 {
		return nil, fmt.Errorf("dict: odd number of arguments")
	}
	m := make(map[string]any, len(kv)/2)
	for i := 0; i < len(kv); i += 2 {
		k, ok := kv[i].(string)
		if !ok {
			return nil, fmt.Errorf("dict: key %v is not a string", kv[i])
		}
		m[k] = kv[i+1]
	}
	return m, nil
}

// shortTime is a time for a table cell that must not wrap: "4 Dec 03:30"
// this year, "18 Nov 2025" before.
func shortTime(t, now time.Time) string {
	if t.Year() == now.Year() {
		return t.Format("2 Jan 15:04")
	}
	return t.Format("2 Jan 2006")
}

// msTime reads a time in Unix milliseconds (int64 or *int64, 0 or nil for
// none) in the server's zone.
func msTime(v any) (time.Time, bool) {
	var ms int64
	switch x := v.(type) {
	case int64:
		ms = x
	case *int64:
		if x == nil {
			return time.Time{}, false
		}
		ms = *x
	}
	if ms == 0 {
		return time.Time{}, false
	}
	return time.UnixMilli(ms).Local(), true
}
