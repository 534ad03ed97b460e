package goal

import (
	"time"

	"github.com/trellisml/trellis/internal/trellis"
)

// ObservationJSON is an Observation as the JSON API carries it: NaN is not
// a JSON number, so an undefined value is null with the reason beside it.
type ObservationJSON struct {
	RunID     string    `json:"run_id"`
	RunName   string    `json:"run_name,omitempty"`
	Value     *float64  `json:"value"` // null when undefined
	Undefined string    `json:"undefined,omitempty"`
	StartedAt time.Time `json:"run_started_at"`
}

// ResultJSON is a GoalResult as the JSON API carries it.
type ResultJSON struct {
	ID string `json:"id,omitempty"` // the stored goal's id
	Goal
	Key  string `json:"key"`
	Text string `json:"text"`
	// JudgedOn says which runs judge the goal (Goal.JudgedOn).
	JudgedOn string           `json:"judged_on"`
	Status   Status           `json:"status"`
	Latest   *ObservationJSON `json:"latest"`
	Best     *ObservationJSON `json:"best"`
	// Provisional is a later run still training: shown, not deciding.
	Provisional *ObservationJSON `json:"provisional,omitempty"`
}

// EvaluationJSON is an ItemEvaluation as the JSON API carries it; the server
// writes it and the Go client reads it, so the two cannot drift.
type EvaluationJSON struct {
	Item  string       `json:"item,omitempty"` // empty for a project's own goals
	Runs  int          `json:"runs"`
	Goals []ResultJSON `json:"goals"`
}

// JSON returns ev in its wire shape.
func (ev *ItemEvaluation) JSON() EvaluationJSON {
	out := EvaluationJSON{Item: ev.Item, Runs: ev.Runs, Goals: make([]ResultJSON, len(ev.Goals))}
	for i, g := range ev.Goals {
		out.Goals[i] = ResultJSON{ID: g.ID, Goal: g.Goal, Key: g.Goal.MetricKey(), Text: g.Goal.String(), JudgedOn: g.Goal.JudgedOn(ev.Item), Status: g.Status,
			Latest: observationJSON(g.Latest), Best: observationJSON(g.Best), Provisional: observationJSON(g.Provisional)}
	}
	return out
}

func observationJSON(o *Observation) *ObservationJSON {
	if o == nil {
		return nil
	}
	w := &ObservationJSON{RunID: o.RunID, RunName: o.RunName, StartedAt: trellis.FromMillis(o.At)}
	if o.Value.Defined {
		v := o.Value.V
		w.Value = &v
	} else {
		w.Undefined = o.Value.Reason
	}
	return w
}
