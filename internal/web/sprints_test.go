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
