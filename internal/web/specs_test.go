package web

import (
	"bytes"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/trellisml/trellis/internal/auth"
	"github.com/trellisml/trellis/internal/tracking"
	"github.com/trellisml/trellis/internal/work"
)

const webSpec = `Feature: churn
  Scenario: accurate enough
    Given the latest run of item "BAL-1"
    Then metric "acc" should be at least 0.8
`

// TestItemSpecPage attaches specs through the item page's forms (upload
// and edit), shows a refused one with its error on its line, the results
// as runs linked to the item finish, old versions, and the board badge.
func TestItemSpecPage(t *testing.T) {
	e := newEnv(t)
	s := e.mustUser("ada", false)
	p := e.mustProject(s, "BAL", "Balloons")
	ctx := e.ctx(s)
	if _, err := e.work.CreateItem(ctx, p, work.NewItem{Kind: work.KindDevelopment, Title: "Churn model"}); err != nil {
		t.Fatal(err)
	}
	viewer := e.mustUser("vic", false)
	if _, err := e.projects.SetMember(ctx, p, "vic", auth.RoleViewer); err != nil {
		t.Fatal(err)
	}

	w := e.get("/p/BAL/items/BAL-1", s)
	wantStatus(t, w, http.StatusOK)
	checkPage(t, w)
	wantBody(t, w, `id="spec-title">Spec<`, "No spec attached", `name="file" type="file"`, `id="spec-text"`)

	upload := func(name, text string) *httptest.ResponseRecorder {
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		fw, _ := mw.CreateFormFile("file", name)
		io.WriteString(fw, text)
		mw.Close()
		return e.do(req{method: http.MethodPost, target: "/p/BAL/items/BAL-1/spec", session: s, body: &body, header: map[string]string{"Content-Type": mw.FormDataContentType()}})
	}
	// A refused upload: 400, the error next to line 4, nothing stored.
	w = upload("bad.feature", strings.Replace(webSpec, "Then metric", "Then metrik", 1))
	wantStatus(t, w, http.StatusBadRequest)
	checkPage(t, w)
	wantBody(t, w, "The spec was not saved", `<li id="spec-line-4" class="spec-line-error" value="4">`, "Line 4: unknown step", `metric &#34;NAME&#34; should be`, "No spec attached")

	// A line too long for the parser is refused the same way, never a 500.
	w = upload("long.feature", strings.Replace(webSpec, "Then metric", "Then metric"+strings.Repeat(" ", 70000), 1))
	wantStatus(t, w, http.StatusBadRequest)
	wantBody(t, w, "The spec was not saved", "Line 4: line is longer than 32768 bytes", "No spec attached")

	w = upload("churn.feature", webSpec)
	wantRedirect(t, w, "/p/BAL/items/BAL-1?ok=spec-saved#spec")
	w = e.get("/p/BAL/items/BAL-1", s)
	// Attached before any run: no data, neither failed nor an error.
	wantBody(t, w, `data-spec-version="1"`, `data-outcome="no_data"`, ">no data</span>", "no run linked to BAL-1 yet", `data-spec-status="no_data"`, "no data yet: no run linked")
	wantNoBody(t, w, `data-outcome="error"`, "spec-outcome spec-no_data warn")

	// Runs linked to the item finish: failed at 0.7, passed at 0.85.
	finish := func(acc float64) string {
		t.Helper()
		r, err := e.track.CreateRun(ctx, p, tracking.NewRun{ExperimentID: "0", Name: fmt.Sprintf("acc %.2f", acc), StartTime: int64(acc * 1000), Tags: []tracking.Tag{{Key: tracking.TagItem, Value: "BAL-1"}}})
		if err != nil {
			t.Fatal(err)
		}
		if err := e.track.LogBatch(ctx, p, r.Info.ID, tracking.Batch{Metrics: []tracking.Metric{{Key: "acc", Value: acc, Timestamp: 1}}}); err != nil {
			t.Fatal(err)
		}
		done := "FINISHED"
		if _, err := e.track.UpdateRun(ctx, p, r.Info.ID, tracking.RunUpdate{Status: &done}); err != nil {
			t.Fatal(err)
		}
		return r.Info.ID
	}
	low := finish(0.7)
	w = e.get("/p/BAL/items/BAL-1", viewer)
	wantBody(t, w, `data-scenario-line="2" data-outcome="failed"`, "<strong>0.7</strong>", "at least 0.8", `href="/p/BAL/runs/`+low+`" data-spec-run>acc 0.70 <span class="mono muted">`+low[:8]+`</span></a>`)
	wantNoBody(t, w, `id="spec-text"`, "Check now") // viewers read only
	w = e.get("/p/BAL/board", s)
	wantStatus(t, w, http.StatusOK)
	wantBody(t, w, `data-spec-status="failed"`, ">spec 0/1<")
	high := finish(0.85)
	w = e.get("/p/BAL/board", s)
	wantBody(t, w, `data-spec-status="passed"`, ">spec 1/1<")
	w = e.get("/p/BAL/board?sprint=active", s)
	wantStatus(t, w, http.StatusOK)

	// The edit form makes version 2; the same text again makes none.
	v2 := strings.Replace(webSpec, "at least 0.8", "at least 0.9", 1)
	wantRedirect(t, e.post("/p/BAL/items/BAL-1/spec", s, url.Values{"name": {"churn.feature"}, "text": {strings.ReplaceAll(v2, "\n", "\r\n")}}), "/p/BAL/items/BAL-1?ok=spec-saved#spec")
	wantRedirect(t, e.post("/p/BAL/items/BAL-1/spec", s, url.Values{"name": {"churn.feature"}, "text": {v2}}), "/p/BAL/items/BAL-1?ok=spec-unchanged#spec")
	w = e.get("/p/BAL/items/BAL-1", s)
	wantBody(t, w, `data-spec-version="2"`, `data-outcome="failed"`, "History: 2 versions", "?spec_version=1#spec", high[:8])
	w = e.get("/p/BAL/items/BAL-1?spec_version=1", s)
	wantBody(t, w, "data-spec-old", "at least 0.8</code>")
	wantRedirect(t, e.post("/p/BAL/items/BAL-1/spec/check", s, nil), "/p/BAL/items/BAL-1?ok=spec-checked#spec")
	w = e.get("/p/BAL/experiments", s)
	wantStatus(t, w, http.StatusOK)

	// Viewers cannot attach or check.
	wantStatus(t, e.post("/p/BAL/items/BAL-1/spec", viewer, url.Values{"name": {"x.feature"}, "text": {webSpec}}), http.StatusForbidden)
	wantStatus(t, e.post("/p/BAL/items/BAL-1/spec/check", viewer, nil), http.StatusForbidden)
}
