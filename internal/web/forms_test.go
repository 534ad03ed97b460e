package web

import (
	"bytes"
	"context"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/trellisml/trellis/internal/work"
)

// noRedirect names the POST routes that answer something other than a
// redirect on success, and why; every other POST route must redirect (303),
// so that reloading the page it lands on does not post the form again.
var noRedirect = map[string]string{
	"/p/{key}/board/move": "board.js posts moves with fetch and reads JSON; no page is left to reload",
	"/setup":              "only before the first user exists (TestSetupFlow checks its redirect)",
}

// TestPostsRedirect posts a valid form to every POST route of the UI, in an
// order that gives each one something to act on, and wants 303 See Other.
// A new POST route fails the test until it is listed here.
func TestPostsRedirect(t *testing.T) {
	e := newEnv(t)
	s := e.mustUser("root", true)
	e.mustUser("bob", false)
	e.mustUser("carl", false)
	p := e.mustProject(s, "BAL", "Balloons")
	ctx := e.ctx(s)
	if _, err := e.work.CreateSprint(ctx, p, work.NewSprint{Name: "S1", StartsOn: "2026-03-02", EndsOn: "2026-03-13"}); err != nil {
		t.Fatal(err)
	}
	exp, err := e.work.CreateItem(ctx, p, work.NewItem{Kind: work.KindExperiment, Title: "Focal loss", TimeBox: "2d", Sprint: "S1",
		Hypothesis: "We believe focal loss will raise recall"})
	if err != nil {
		t.Fatal(err)
	}
	dev, err := e.work.CreateItem(ctx, p, work.NewItem{Kind: work.KindDevelopment, Title: "Serve the model", Points: 3})
	if err != nil {
		t.Fatal(err)
	}
	item := "/p/BAL/items/" + exp.Key
	sprint := func() string {
		sps, err := e.work.Sprints(ctx, p)
		if err != nil || len(sps) == 0 {
			t.Fatalf("sprints: %v", err)
		}
		return "/p/BAL/sprints/" + sps[len(sps)-1].ID
	}
	goalID := func() string {
		gs, err := e.goals.Goals(ctx, p, exp.Key)
		if err != nil || len(gs) == 0 {
			t.Fatalf("goals: %v", err)
		}
		return gs[0].ID
	}
	tokenID := func() string {
		ts, err := e.auth.Tokens(ctx)
		if err != nil || len(ts) == 0 {
			t.Fatalf("tokens: %v", err)
		}
		return ts[0].ID
	}
	planning := func() url.Values {
		ss, err := e.work.Statuses(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		v := url.Values{"point_scale": {"fibonacci"}, "committed": {"60"}, "experiments": {"30"}, "learning": {"10"}}
		for _, st := range ss {
			v.Add("status_name", st.Name)
			v.Add("status_category", st.Category)
			v.Add("status_wip", strconv.Itoa(st.WIPLimit))
		}
		return v
	}
	csv := func() (string, []byte) {
		var b bytes.Buffer
		mw := multipart.NewWriter(&b)
		fw, _ := mw.CreateFormFile("file", "items.csv")
		fw.Write([]byte("title,kind\nImported,development\n"))
		mw.Close()
		return mw.FormDataContentType(), b.Bytes()
	}

	cases := []struct {
		pattern string
		target  func() string // nil: the pattern with {key} = BAL
		form    func() url.Values
		upload  func() (string, []byte)
	}{
		{pattern: "/projects/new", form: vals("key", "CAT", "name", "Cats")},
		{pattern: "/p/{key}/backlog", form: vals("kind", "development", "title", "Retrain", "time_box", "2d")},
		{pattern: "/p/{key}/planning/templates", form: vals("t_name", "spike", "t_kind", "research", "t_title", "Spike", "t_subtasks", "read")},
		{pattern: "/p/{key}/backlog/template", form: vals("template", "spike", "title", "Spike on loss", "time_box", "2d")},
		{pattern: "/p/{key}/backlog/bulk", form: vals("item", dev.Key, "bulk_label", "serving")},
		{pattern: "/p/{key}/backlog/filters", form: vals("name", "mine", "query", "kind=development")},
		{pattern: "/p/{key}/items/{item}", target: fixed(item), form: vals("title", "Focal loss, gamma 2")},
		{pattern: "/p/{key}/items/{item}/links", target: fixed(item + "/links"), form: vals("type", "relates_to", "to", dev.Key)},
		{pattern: "/p/{key}/items/{item}/comments", target: fixed(item + "/comments"), form: vals("body", "Looks good")},
		{pattern: "/p/{key}/items/{item}/dod", target: fixed("/p/BAL/items/" + dev.Key + "/dod"), form: vals()},
		{pattern: "/p/{key}/items/{item}/goals", target: fixed(item + "/goals"), form: vals("metric", "recall", "comparator", "at least", "threshold", "0.8")},
		{pattern: "/p/{key}/goals", form: vals("metric", "loss", "comparator", "at most", "threshold", "0.3", "run_tag", "stage=prod")},
		{pattern: "/p/{key}/goals/{id}/edit", target: func() string { return "/p/BAL/goals/" + goalID() + "/edit" }, form: vals("metric", "recall", "comparator", "at least", "threshold", "0.85")},
		{pattern: "/p/{key}/goals/{id}/delete", target: func() string { return "/p/BAL/goals/" + goalID() + "/delete" }, form: vals()},
		{pattern: "/p/{key}/items/{item}/spec", target: fixed(item + "/spec"), form: vals("name", "churn.feature", "text", webSpec)},
		{pattern: "/p/{key}/items/{item}/spec/check", target: fixed(item + "/spec/check"), form: vals()},
		{pattern: "/p/{key}/items/{item}/decide", target: fixed(item + "/decide"), form: vals("outcome", "abandon", "verdict", "refuted", "reason", "No gain")},
		{pattern: "/p/{key}/import", upload: csv},
		{pattern: "/inbox/read", form: vals()},
		{pattern: "/p/{key}/planning", form: planning},
		{pattern: "/p/{key}/sprints", form: vals("name", "S2", "starts_on", "2026-03-16", "ends_on", "2026-03-27")},
		{pattern: "/p/{key}/sprints/{sprint}/items", target: func() string { return sprint() + "/items" }, form: vals("item", dev.Key)},
		{pattern: "/p/{key}/sprints/{sprint}/remove", target: func() string { return sprint() + "/remove" }, form: vals("item", dev.Key)},
		{pattern: "/p/{key}/sprints/{sprint}/edit", target: func() string { return sprint() + "/edit" }, form: vals("goal", "Ship it")},
		{pattern: "/p/{key}/sprints/{sprint}/start", target: func() string { return sprint() + "/start" }, form: vals()},
		{pattern: "/p/{key}/sprints/{sprint}/close", target: func() string { return sprint() + "/close" }, form: vals("move_to", "backlog")},
		{pattern: "/p/{key}/settings", form: vals("name", "Balloons", "description", "Hot air")},
		{pattern: "/p/{key}/settings/members", form: vals("user", "bob", "role", "editor")},
		{pattern: "/p/{key}/settings/members/remove", form: vals("user", "bob")},
		{pattern: "/p/{key}/settings/archive", target: fixed("/p/CAT/settings/archive"), form: vals("archived", "1")},
		{pattern: "/account/tokens", form: vals("token_name", "ci-bot", "scope", "write", "expires", "90d")},
		{pattern: "/account/tokens/{id}/revoke", target: func() string { return "/account/tokens/" + tokenID() + "/revoke" }, form: vals()},
		{pattern: "/account/default-project", form: vals("project", "BAL")},
		{pattern: "/admin/users", form: vals("name", "dora", "password", testPassword)},
		{pattern: "/admin/users/{name}/revoke-tokens", target: fixed("/admin/users/carl/revoke-tokens"), form: vals()},
		{pattern: "/admin/users/{name}/disable", target: fixed("/admin/users/carl/disable"), form: vals()},
		{pattern: "/admin/users/{name}/enable", target: fixed("/admin/users/carl/enable"), form: vals()},
		{pattern: "/login", form: vals("name", "carl", "password", testPassword)},
		{pattern: "/logout", form: vals()},
		// Last: the password change signs the other sessions out.
		{pattern: "/account/password", form: vals("current", testPassword, "new", "a-much-longer-pass-77", "confirm", "a-much-longer-pass-77")},
	}
	covered := map[string]bool{}
	for _, c := range cases {
		covered[c.pattern] = true
		target := strings.ReplaceAll(c.pattern, "{key}", "BAL")
		if c.target != nil {
			target = c.target()
		}
		rq := req{method: http.MethodPost, target: target, session: s}
		if c.upload != nil {
			typ, body := c.upload()
			rq.body, rq.header = bytes.NewReader(body), map[string]string{"Content-Type": typ}
		} else {
			rq.form = c.form()
		}
		switch c.pattern {
		case "/login":
			rq.session = "" // signing in from the sign-in page
		case "/logout":
			rq.session = e.login("carl")
		}
		w := e.do(rq)
		if w.Code != http.StatusSeeOther {
			t.Errorf("POST %s: status %d, want 303 See Other; body:\n%.600s", target, w.Code, w.Body.String())
		}
	}
	for _, rt := range e.ui.routes() {
		if rt.Method != http.MethodPost || covered[rt.Pattern] {
			continue
		}
		if _, ok := noRedirect[rt.Pattern]; !ok {
			t.Errorf("POST %s: not in the redirect table; add a case (or a reason to noRedirect)", rt.Pattern)
		}
	}
}

func vals(kv ...string) func() url.Values {
	return func() url.Values {
		v := url.Values{}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Add(kv[i], kv[i+1])
		}
		return v
	}
}

func fixed(s string) func() string { return func() string { return s } }

// login starts another session for an existing user.
func (e *env) login(name string) string {
	e.t.Helper()
	_, session, err := e.auth.Login(context.Background(), name, testPassword)
	if err != nil {
		e.t.Fatal(err)
	}
	return session
}

// TestFormErrors posts refused forms: each page comes back with the
// refusal's status, what was typed, the message beside its field (marked
// aria-invalid and described by the message) in the words the form shows,
// never the service's stored values.
func TestFormErrors(t *testing.T) {
	e := newEnv(t)
	s := e.mustUser("root", true)
	e.mustUser("bob", false)
	p := e.mustProject(s, "BAL", "Balloons")
	ctx := e.ctx(s)
	sp, err := e.work.CreateSprint(ctx, p, work.NewSprint{Name: "Sprint Nine", StartsOn: "2026-03-02", EndsOn: "2026-03-13"})
	if err != nil {
		t.Fatal(err)
	}
	exp, err := e.work.CreateItem(ctx, p, work.NewItem{Kind: work.KindExperiment, Title: "Focal loss", TimeBox: "2d", Sprint: sp.Name,
		Hypothesis: "We believe focal loss will raise recall"})
	if err != nil {
		t.Fatal(err)
	}
	item := "/p/BAL/items/" + exp.Key
	invalid := func(id string) string { return `aria-invalid="true" aria-describedby="` + id + `-error"` }
	cases := []struct {
		name   string
		target string
		form   url.Values
		status int
		want   []string
		not    []string
	}{
		{"new item, unknown parent", "/p/BAL/backlog",
			url.Values{"kind": {"development"}, "title": {"Tune the learning rate"}, "parent": {"BAL-99"}, "labels": {"tuning"}, "time_box": {"2d"}},
			http.StatusBadRequest, []string{invalid("parent"), `id="parent-error"`, `value="Tune the learning rate"`, `value="tuning"`}, nil},
		{"new item, blank title", "/p/BAL/backlog",
			url.Values{"kind": {"research"}, "title": {"   "}, "description": {"Why the loss plateaus"}, "time_box": {"2d"}},
			http.StatusBadRequest, []string{invalid("title"), `id="title-error">Title is required.`, "Why the loss plateaus"}, nil},
		{"decision, unknown outcome", item + "/decide",
			url.Values{"outcome": {"ship_it"}, "verdict": {"refuted"}, "reason": {"Recall fell on the night set"}},
			http.StatusBadRequest,
			[]string{`id="outcome-error">Choose a decision: Productionize, Abandon or More research.`, invalid("outcome"), "Recall fell on the night set",
				// The Fields card shows the item's sprint, not "backlog".
				`<dt>Sprint</dt><dd><a href="/p/BAL/sprints/` + sp.ID + `">Sprint Nine</a>`},
			[]string{"must be productionize", "not &#34;ship_it&#34;"}},
		{"decision, unknown verdict", item + "/decide",
			url.Values{"outcome": {"abandon"}, "verdict": {"maybe"}, "reason": {"r"}},
			http.StatusBadRequest, []string{`id="verdict-error">Choose a hypothesis verdict: supported, refuted or inconclusive.`}, []string{"verdict must be"}},
		{"item, bad time box", item,
			url.Values{"title": {"Focal loss, gamma 2"}, "time_box": {"custom"}, "time_box_custom": {"three days"}},
			http.StatusBadRequest, []string{invalid("time_box"), `id="time_box-error">Time box must be`, `value="Focal loss, gamma 2"`}, []string{"time_box must"}},
		{"link to a missing item", item + "/links", url.Values{"type": {"blocks"}, "to": {"BAL-99"}},
			http.StatusBadRequest, []string{invalid("link-to"), `id="link-to-error">No item BAL-99 in project BAL.`, `value="BAL-99"`}, nil},
		{"link, unknown type", item + "/links", url.Values{"type": {"duplicates"}, "to": {"BAL-1"}},
			http.StatusBadRequest, []string{`id="link-type-error">Choose how the items relate: blocks, relates to or is a follow-up of.`}, []string{"relates_to or"}},
		{"blank comment", item + "/comments", url.Values{"body": {"  \n "}},
			http.StatusBadRequest, []string{invalid("comment-body"), `id="comment-body-error"`}, nil},
		{"sub-task, blank title", "/p/BAL/backlog", url.Values{"parent": {exp.Key}, "back": {"item"}, "kind": {"research"}, "title": {"  "}},
			http.StatusBadRequest, []string{invalid("sub-title"), `id="sub-title-error"`, `<option value="research" selected>`}, nil},
		{"token, unknown scope", "/account/tokens", url.Values{"token_name": {"ci-bot"}, "scope": {"admin"}, "expires": {"90d"}},
			http.StatusBadRequest, []string{`id="token-scope-error">Choose a scope: read or write.`, `value="ci-bot"`}, nil},
		{"member, unknown role", "/p/BAL/settings/members", url.Values{"user": {"bob"}, "role": {"owner"}},
			http.StatusBadRequest, []string{`id="member-role-error">Choose a role: viewer, editor or admin.`}, []string{"one of viewer"}},
		{"sprint, no name", "/p/BAL/sprints", url.Values{"name": {" "}, "goal": {"Ship recall 0.8"}, "starts_on": {"2026-04-01"}, "ends_on": {"2026-04-10"}},
			http.StatusBadRequest, []string{invalid("s-name"), `value="Ship recall 0.8"`}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := e.post(c.target, s, c.form)
			wantStatus(t, w, c.status)
			wantBody(t, w, c.want...)
			wantNoBody(t, w, c.not...)
		})
	}
}

// TestFormMessage maps the services' messages to the forms' words and
// leaves the others alone.
func TestFormMessage(t *testing.T) {
	cases := []struct{ field, msg, want string }{
		{"outcome", `outcome must be productionize, abandon or more_research; not "x"`, "Choose a decision: Productionize, Abandon or More research."},
		{"role", "role must be one of viewer, editor, admin", "Choose a role: viewer, editor or admin."},
		{"time_box", "time_box must be a number of hours", "Time box must be a number of hours"},
		{"outcome", "an abandoned experiment needs a reason", "an abandoned experiment needs a reason"},
		{"title", "title is required", "title is required"},
		{"to", "to: no item BAL-99 in project BAL", "no item BAL-99 in project BAL"},
	}
	for _, c := range cases {
		if got := formMessage(c.field, c.msg); got != c.want {
			t.Errorf("formMessage(%q, %q) = %q, want %q", c.field, c.msg, got, c.want)
		}
	}
}

// TestWorkflowForm edits the workflow as a form of rows: a rename, a new
// order, a WIP limit and a status added in the empty row are saved through
// the same service; a refused row keeps what was typed and shows why beside
// that row; the row buttons work without JavaScript.
func TestWorkflowForm(t *testing.T) {
	e := newEnv(t)
	s := e.mustUser("ada", false)
	p := e.mustProject(s, "BAL", "Balloons")
	w := e.get("/p/BAL/planning", s)
	wantStatus(t, w, http.StatusOK)
	wantBody(t, w, `name="status_name" value="Backlog"`, `name="status_name" value="In progress"`, `aria-label="WIP limit of status 6"`,
		`name="workflow_action" value="up-1"`, `value="add"`, `/static/workflow.`)
	wantNoBody(t, w, `name="workflow"`, `<textarea id="workflow"`)

	type row struct{ name, cat, wip string }
	post := func(extra url.Values, rows ...row) *httptest.ResponseRecorder {
		v := url.Values{"point_scale": {"fibonacci"}, "committed": {"60"}, "experiments": {"30"}, "learning": {"10"}}
		for _, r := range rows {
			v.Add("status_name", r.name)
			v.Add("status_category", r.cat)
			v.Add("status_wip", r.wip)
		}
		for k, vs := range extra {
			v[k] = vs
		}
		return e.post("/p/BAL/planning", s, v)
	}
	// Renamed "In progress" to "Doing" with a WIP limit of 3, moved
	// "In review" above it, and added "Blocked" in the empty last row.
	w = post(nil, row{"Backlog", "todo", ""}, row{"To do", "todo", "0"}, row{"In review", "doing", ""},
		row{"Doing", "doing", "3"}, row{"Done", "done", ""}, row{"Blocked", "doing", ""}, row{"", "doing", ""})
	wantRedirect(t, w, "/p/BAL/planning?ok=planning-saved")
	ss, err := e.work.Statuses(e.ctx(s), p)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, st := range ss {
		got = append(got, fmt.Sprintf("%s|%s|%d", st.Name, st.Category, st.WIPLimit))
	}
	if want := "Backlog|todo|0 To do|todo|0 In review|doing|0 Doing|doing|3 Done|done|0 Blocked|doing|0"; strings.Join(got, " ") != want {
		t.Errorf("statuses %q, want %q", strings.Join(got, " "), want)
	}
	wantBody(t, e.get("/p/BAL/planning", s), `name="status_name" value="Doing"`, `name="status_wip" type="number" min="0" max="1000" value="3"`)

	// A name given twice is refused beside its row (the third), and every
	// row keeps what was typed.
	w = post(nil, row{"Backlog", "todo", ""}, row{"Shipping", "doing", "4"}, row{"backlog", "doing", ""}, row{"Done", "done", ""})
	wantStatus(t, w, http.StatusBadRequest)
	wantBody(t, w, `The workflow was not saved: status 3 is refused.`,
		`value="backlog" maxlength="40" aria-label="Name of status 3" data-label="Name of status {n}" aria-invalid="true" aria-describedby="status-error-2"><p class="field-error" id="status-error-2">Status &#34;backlog&#34; appears twice.</p>`,
		`name="status_name" value="Shipping"`, `value="4"`)
	if strings.Count(w.Body.String(), `class="field-error"`) != 1 {
		t.Errorf("want the one refused row marked:\n%s", w.Body.String())
	}
	// A WIP limit that is not a number is refused beside its row too.
	w = post(nil, row{"Backlog", "todo", ""}, row{"Shipping", "doing", "many"}, row{"Done", "done", ""})
	wantStatus(t, w, http.StatusBadRequest)
	wantBody(t, w, `id="status-error-1">The WIP limit must be a whole number`)
	// An out-of-range limit: the service's message in the form's words.
	w = post(nil, row{"Backlog", "todo", ""}, row{"Shipping", "doing", "5000"}, row{"Done", "done", ""})
	wantStatus(t, w, http.StatusBadRequest)
	wantBody(t, w, `id="status-error-1">The WIP limit must be 0 (none) to 1000.`)

	// Without JavaScript the row buttons post the form: the rows come back
	// moved or removed, nothing saved yet.
	w = post(url.Values{"workflow_action": {"up-1"}}, row{"Backlog", "todo", ""}, row{"Ready", "todo", ""}, row{"Done", "done", ""})
	wantStatus(t, w, http.StatusOK)
	body := w.Body.String()
	if i, j := strings.Index(body, `value="Ready"`), strings.Index(body, `value="Backlog"`); i < 0 || j < 0 || i > j {
		t.Errorf("Ready not moved above Backlog")
	}
	w = post(url.Values{"workflow_action": {"remove-0"}}, row{"Backlog", "todo", ""}, row{"Ready", "todo", ""}, row{"Done", "done", ""})
	wantStatus(t, w, http.StatusOK)
	wantNoBody(t, w, `value="Backlog"`)
	wantBody(t, w, `value="Ready"`, `aria-label="Name of status 3"`) // Ready, Done and the empty row
	if ss2, _ := e.work.Statuses(e.ctx(s), p); len(ss2) != len(ss) {
		t.Errorf("a row button saved the workflow")
	}
}
