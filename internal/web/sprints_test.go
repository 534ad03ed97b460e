package web

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/trellisml/trellis/internal/work"
)

func TestSprintCapacityEdit(t *testing.T) {
	e := newEnv(t)
	s := e.mustUser("ada", false)
	p := e.mustProject(s, "BAL", "Balloons")
	sp, err := e.work.CreateSprint(e.ctx(s), p, work.NewSprint{Name: "S1", StartsOn: "2026-03-02", EndsOn: "2026-03-13"})
	if err != nil {
		t.Fatal(err)
	}
	wantStatus(t, e.post("/p/BAL/sprints/"+sp.ID+"/edit", s, url.Values{"goal": {"g"}, "cap_ada": {"many"}}), http.StatusBadRequest)
	wantRedirect(t, e.post("/p/BAL/sprints/"+sp.ID+"/edit", s, url.Values{"goal": {"Recall 0.8"}, "cap_ada": {"12"}}), "/p/BAL/sprints/"+sp.ID+"?ok=sprint-planned")
	wantBody(t, e.get("/p/BAL/sprints/"+sp.ID, s), "Recall 0.8", `name="cap_ada" value="12"`, "of <strong>12</strong> capacity")
}

// TestSprintClosedDate shows when a closed sprint closed, on the list and
// on its page, beside its planned dates.
func TestSprintClosedDate(t *testing.T) {
	e := newEnv(t)
	s := e.mustUser("ada", false)
	p := e.mustProject(s, "BAL", "Balloons")
	sp, err := e.work.CreateSprint(e.ctx(s), p, work.NewSprint{Name: "S1", StartsOn: "2026-03-02", EndsOn: "2026-03-13"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.work.StartSprint(e.ctx(s), p, sp.ID); err != nil {
		t.Fatal(err)
	}
	closed, err := e.work.CloseSprint(e.ctx(s), p, sp.ID, "backlog")
	if err != nil {
		t.Fatal(err)
	}
	on := closed.Snapshot.ClosedAt.UTC().Format("2 Jan 2006")
	wantBody(t, e.get("/p/BAL/sprints", s), "2 Mar 2026 – 13 Mar 2026", "<span class=\"muted\" data-closed>· closed "+on+"</span>")
	wantBody(t, e.get("/p/BAL/sprints/"+sp.ID, s), "<span data-closed>closed "+on+"</span>")
}
