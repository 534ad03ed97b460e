package cli_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/trellisml/trellis/internal/apptest"
	"github.com/trellisml/trellis/internal/tracking"
)

// BenchmarkGoalsEvaluate measures POST /api/v1/projects/BAL/goals/evaluate
// end to end on the real server (SQLite, or PostgreSQL with
// TRELLIS_TEST_POSTGRES) for an item with n linked runs of 5 metrics each
// and a spec of 3 goals: the evaluation reads every linked run.
func BenchmarkGoalsEvaluate(b *testing.B) {
	for _, pg := range []bool{false, true} {
		name := map[bool]string{false: "sqlite", true: "postgres"}[pg]
		for _, n := range []int{10, 100, 1000} {
			b.Run(fmt.Sprintf("%s/runs=%d", name, n), func(b *testing.B) { benchGoalsEvaluate(b, pg, n) })
		}
	}
}

// goalServer starts the real server (PostgreSQL when pg) whose project
// BAL has an item BAL-7 with n linked runs, run i started at second i with
// accuracy (i+0)/(n+5), loss (i+1)/(n+5), … It returns the base URL and
// BAL's owner's token.
func goalServer(tb testing.TB, pg bool, n int) (base, token string) {
	tb.Helper()
	b := apptest.SQLite
	if pg {
		b = apptest.PostgreSQL // a fresh schema per run: the setup creates fixed names
	}
	a := apptest.Start(tb, b)
	as, proj := a.As("owner"), a.Project("BAL")
	exp, err := a.Tracking.CreateExperiment(as, proj, "bench", "", nil)
	if err != nil {
		tb.Fatal(err)
	}
	expID := strconv.FormatInt(exp.ID, 10)
	finished := "FINISHED"
	for i := range n {
		run, err := a.Tracking.CreateRun(as, proj, tracking.NewRun{ExperimentID: expID, Name: fmt.Sprintf("iter %d", i),
			StartTime: int64(1_700_000_000_000 + i*1000), Tags: []tracking.Tag{{Key: tracking.TagItem, Value: "BAL-7"}}})
		if err != nil {
			tb.Fatal(err)
		}
		var batch tracking.Batch
		for j, k := range []string{"accuracy", "loss", "f1.spam", "precision.spam", "recall.spam"} {
			batch.Metrics = append(batch.Metrics, tracking.Metric{Key: k, Value: float64(i+j) / float64(n+5), Timestamp: 1, Step: 0})
		}
		if err := a.Tracking.LogBatch(as, proj, run.Info.ID, batch); err != nil {
			tb.Fatal(err)
		}
		if _, err := a.Tracking.UpdateRun(as, proj, run.Info.ID, tracking.RunUpdate{Status: &finished}); err != nil {
			tb.Fatal(err) // only finished runs decide a goal
		}
	}
	return a.URL, a.Token("owner")
}

func benchGoalsEvaluate(b *testing.B, pg bool, n int) {
	base, token := goalServer(b, pg, n)
	spec, _ := json.Marshal(map[string]string{"spec": `Feature: f
  Scenario: s
    Given the latest run of item "BAL-7"
    Then metric "accuracy" should be at least 0.9
    And metric "loss" should be at most 0.2
    And metric "recall.spam" should be at least 0.5
`})
	b.ResetTimer()
	for range b.N {
		req, _ := http.NewRequest("POST", base+"/api/v1/projects/BAL/goals/evaluate?item=BAL-7", strings.NewReader(string(spec)))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		raw, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		var out struct{ Runs int }
		if err != nil || resp.StatusCode != 200 || json.Unmarshal(raw, &out) != nil || out.Runs != n {
			b.Fatalf("status %d: %s (err %v), want %d runs", resp.StatusCode, raw, err, n)
		}
	}
}

// TestGoalsEvaluateManyRuns evaluates an item with more linked runs than
// one run search takes: every run counts, and the latest one decides.
func TestGoalsEvaluateManyRuns(t *testing.T) {
	for _, pg := range []bool{false, true} {
		t.Run(map[bool]string{false: "sqlite", true: "postgres"}[pg], func(t *testing.T) {
			const n = 1201
			base, token := goalServer(t, pg, n)
			body := `{"spec":"Feature: f\n  Scenario: s\n    Given the latest run of item \"BAL-7\"\n    Then metric \"accuracy\" should be at most 0.5\n"}`
			req, _ := http.NewRequest("POST", base+"/api/v1/projects/BAL/goals/evaluate?item=BAL-7", strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+token)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var out struct {
				Runs  int
				Goals []struct {
					Status string
					Latest struct{ Value float64 }
					Best   struct{ Value float64 }
				}
			}
			if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != 200 || out.Runs != n || len(out.Goals) != 1 {
				t.Fatalf("status %d, %+v, %v", resp.StatusCode, out, err)
			}
			// The latest run (i = n-1) logged accuracy (n-1)/(n+5) > 0.5: not
			// met; the best is run 0's 0.
			g := out.Goals[0]
			if g.Status != "not met" || g.Latest.Value != float64(n-1)/float64(n+5) || g.Best.Value != 0 {
				t.Errorf("goal %+v", g)
			}

			// trellis spec check finds the same latest run among all links.
			specEnv(t)
			t.Setenv("TRELLIS_TOKEN", token)
			p := filepath.Join(t.TempDir(), "latest.feature")
			if err := os.WriteFile(p, []byte("Feature: f\n  Scenario: s\n    Given the latest run of item \"BAL-7\"\n    Then metric \"accuracy\" should be more than 0.99\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			if out, errOut, code := specCheck(t, p, "--server", base); code != 0 {
				t.Errorf("spec check over %d links: exit %d %s %s", n, code, out, errOut)
			}
		})
	}
}
