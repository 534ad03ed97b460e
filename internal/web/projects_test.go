package web

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/trellisml/trellis/internal/auth"
)

func TestProjectCreate(t *testing.T) {
	e := newEnv(t)
	s := e.mustUser("alice", false)
	wantBody(t, e.get("/projects", s), "No projects yet", `href="/projects/new"`)
	w := e.get("/projects/new", s)
	wantBody(t, w, `<label for="key">Project key</label>`, `<label for="name">Name</label>`,
		`<label for="description">Description</label>`, `<textarea id="description"`, `>Create project</button>`)

	w = e.post("/projects/new", s, url.Values{"key": {"1x"}, "name": {"Balloons & more"}, "description": {"Hot <air>"}})
	wantStatus(t, w, http.StatusBadRequest)
	wantBody(t, w, `id="key-error"`, "Key must be 2–10 uppercase letters", `value="1x"`,
		`value="Balloons &amp; more"`, `Hot &lt;air&gt;</textarea>`, `aria-invalid="true"`)

	w = e.post("/projects/new", s, url.Values{"key": {"bal"}, "name": {"Balloons"}, "description": {"Hot air."}})
	wantRedirect(t, w, "/p/BAL")

	w = e.post("/projects/new", s, url.Values{"key": {"BAL"}, "name": {"Again"}})
	wantStatus(t, w, http.StatusBadRequest)
	wantBody(t, w, "Project key BAL is taken.", `value="Again"`)

	w = e.get("/projects", s)
	wantBody(t, w, `<a class="stretched" href="/p/BAL">Balloons</a>`)

	w = e.get("/p/BAL", s)
	wantStatus(t, w, http.StatusOK)
	wantBody(t, w, "Balloons", "Hot air.", "admin", "export MLFLOW_TRACKING_URI=http://trellis.test/p/BAL",
		"export MLFLOW_TRACKING_TOKEN=&lt;a token from your account page&gt;", `href="/account#tokens"`)
}

func TestArchivedProjects(t *testing.T) {
	e := newEnv(t)
	s := e.mustUser("alice", false)
	e.mustProject(s, "BAL", "Balloons")
	wantRedirect(t, e.post("/p/BAL/settings/archive", s, url.Values{"archived": {"1"}}), "/p/BAL/settings?ok=project-archived")
	wantNoBody(t, e.get("/projects", s), "/p/BAL")
	wantBody(t, e.get("/projects?archived=1", s), `href="/p/BAL"`, "archived", "Hide archived")
	wantBody(t, e.get("/p/BAL/settings", s), "Unarchive project")
	wantRedirect(t, e.post("/p/BAL/settings/archive", s, url.Values{"archived": {"0"}}), "/p/BAL/settings?ok=project-unarchived")
	wantBody(t, e.get("/projects", s), `href="/p/BAL"`)
}

func TestSettingsAccess(t *testing.T) {
	e := newEnv(t)
	admin := e.mustUser("alice", false)
	viewer := e.mustUser("bob", false)
	outsider := e.mustUser("carol", false)
	p := e.mustProject(admin, "BAL", "Balloons")
	if _, err := e.projects.SetMember(e.ctx(admin), p, "bob", auth.RoleViewer); err != nil {
		t.Fatal(err)
	}

	w := e.get("/p/BAL/settings", viewer)
	wantStatus(t, w, http.StatusOK)
	wantBody(t, w, "Only project admins can change its settings", "alice", "bob", "export MLFLOW_TRACKING_URI=")
	wantNoBody(t, w, "Save changes", "Add member", "Remove", "Archive project", `<datalist`)

	for _, path := range []string{"/p/BAL/settings", "/p/BAL/settings/archive", "/p/BAL/settings/members", "/p/BAL/settings/members/remove"} {
		w := e.post(path, viewer, url.Values{"name": {"Hijacked"}, "user": {"bob"}, "role": {"admin"}, "archived": {"1"}})
		wantStatus(t, w, http.StatusForbidden)
	}
	wantStatus(t, e.get("/p/BAL/settings", outsider), http.StatusNotFound)
	wantStatus(t, e.get("/p/BAL", outsider), http.StatusNotFound)
	wantStatus(t, e.post("/p/BAL/settings", outsider, url.Values{"name": {"x"}}), http.StatusNotFound)

	w = e.get("/p/BAL/settings", admin)
	wantBody(t, w, "Save changes", "Add member", `<option value="carol">`, `>Remove</button>`, `aria-label="Role for bob"`)

	w = e.post("/p/BAL/settings", admin, url.Values{"name": {"  "}, "description": {"kept text"}})
	wantStatus(t, w, http.StatusBadRequest)
	wantBody(t, w, `id="name-error"`, "kept text")
	wantRedirect(t, e.post("/p/BAL/settings", admin, url.Values{"name": {"Balloons v2"}, "description": {"new"}}), "/p/BAL/settings?ok=project-saved")
	wantBody(t, e.get("/p/BAL/settings?ok=project-saved", admin), "Project saved.", `value="Balloons v2"`)
}

func TestMembers(t *testing.T) {
	e := newEnv(t)
	admin := e.mustUser("alice", false)
	e.mustUser("bob", false)
	e.mustProject(admin, "BAL", "Balloons")

	wantRedirect(t, e.post("/p/BAL/settings/members", admin, url.Values{"user": {"Bob"}, "role": {"editor"}}), "/p/BAL/settings?ok=member-saved#members")
	wantBody(t, e.get("/p/BAL/settings", admin), "bob")

	w := e.post("/p/BAL/settings/members", admin, url.Values{"user": {"nobody"}, "role": {"viewer"}})
	wantStatus(t, w, http.StatusBadRequest)
	wantBody(t, w, `id="member-user-error"`, "No user named", `value="nobody"`)

	// The last admin can neither leave nor step down.
	w = e.post("/p/BAL/settings/members/remove", admin, url.Values{"user": {"alice"}})
	wantStatus(t, w, http.StatusConflict)
	wantBody(t, w, "at least one admin")
	w = e.post("/p/BAL/settings/members", admin, url.Values{"user": {"alice"}, "role": {"viewer"}, "row": {"1"}})
	wantStatus(t, w, http.StatusConflict)
	wantBody(t, w, "at least one admin")
	wantNoBody(t, w, `id="member-user" name="user" list="member-users" autocomplete="off" autocapitalize="none" spellcheck="false" required value="alice"`)

	w = e.post("/p/BAL/settings/members/remove", admin, url.Values{"user": {"carol"}})
	wantStatus(t, w, http.StatusBadRequest)
	wantRedirect(t, e.post("/p/BAL/settings/members/remove", admin, url.Values{"user": {"bob"}}), "/p/BAL/settings?ok=member-removed#members")
}
