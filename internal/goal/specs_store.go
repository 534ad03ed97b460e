package goal

import (
	"context"
	"github.com/trellisml/trellis/internal/goal/speccheck"
	"time"
)

// SpecStore keeps specs attached to items, their versions and the latest
// result of each scenario.
type SpecStore interface {
	// FindItemRef returns an item of a project by number. Errors: ENOTFOUND.
	FindItemRef(ctx context.Context, projectID string, number int64) (*ItemRef, error)
	// AddSpecVersion stores v as the item's next version and sets
	// v.Version, unless the latest version's text equals v.Text: then it
	// fills v from that version and reports created false.
	AddSpecVersion(ctx context.Context, v *SpecVersion) (created bool, err error)
	// FindSpecVersions lists an item's versions newest first, without
	// their text.
	FindSpecVersions(ctx context.Context, itemID string) ([]*SpecVersion, error)
	// FindSpecVersion returns one version with its text; version 0 is the
	// latest. Errors: ENOTFOUND.
	FindSpecVersion(ctx context.Context, itemID string, version int) (*SpecVersion, error)
	// SaveSpecResults replaces the item's results with rs, checked against
	// version, unless a newer version was attached meanwhile (then it
	// stores nothing and reports saved false).
	SaveSpecResults(ctx context.Context, itemID, projectID string, version int, rs []*SpecResult) (saved bool, err error)
	// FindSpecResults returns an item's latest results in spec order.
	FindSpecResults(ctx context.Context, itemID string) ([]*SpecResult, error)
	// FindSpecSummaries counts the latest results of every item of a
	// project that has any, by item id, in one query.
	FindSpecSummaries(ctx context.Context, projectID string) (map[string]*SpecSummary, error)
}

// SpecVersion is one version of the spec attached to an item.
type SpecVersion struct {
	ItemID    string    `json:"-"`
	ProjectID string    `json:"-"`
	Item      string    `json:"item"` // the item key
	Version   int       `json:"version"`
	Name      string    `json:"name"` // the .feature file name
	Text      string    `json:"text,omitempty"`
	Author    string    `json:"author"`
	CreatedAt time.Time `json:"created_at"`
}

// SpecResult is the latest result of one scenario of an item's spec.
type SpecResult struct {
	Version   int               `json:"version"` // the spec version checked
	Scenario  string            `json:"scenario"`
	Line      int               `json:"line"`
	RowLine   int               `json:"row_line,omitempty"` // the Examples row, for outlines
	Outcome   speccheck.Outcome `json:"outcome"`
	Message   string            `json:"message,omitempty"` // why it failed, errored or was skipped
	Checks    []CheckValue      `json:"checks"`
	RunID     string            `json:"run_id,omitempty"` // the run the scenario read
	CheckedAt time.Time         `json:"checked_at"`
}

// CheckValue is one Then step of a checked scenario: the measured value
// next to the threshold.
type CheckValue struct {
	Step       string               `json:"step"`
	Line       int                  `json:"line"`
	Metric     string               `json:"metric"`
	Comparator speccheck.Comparator `json:"comparator"`
	Threshold  float64              `json:"threshold"`
	Measured   *float64             `json:"measured,omitempty"`  // nil when not measured or undefined
	Undefined  string               `json:"undefined,omitempty"` // why the value is undefined
	Outcome    speccheck.Outcome    `json:"outcome"`
	Message    string               `json:"message,omitempty"`
}

// SpecSummary counts the latest results of an item's spec, for a card.
type SpecSummary struct {
	Version   int       `json:"version"`
	Passed    int       `json:"passed"`
	Failed    int       `json:"failed"`
	Errors    int       `json:"errors"`
	Skipped   int       `json:"skipped"`
	CheckedAt time.Time `json:"checked_at"`
}

// Checked is how many scenarios the server checked (all but skipped).
func (s *SpecSummary) Checked() int { return s.Passed + s.Failed + s.Errors }

// Status is the spec's state at a glance: failed when any scenario failed,
// error when any could not be checked, passed when every checked one
// passed, skipped when the server could check none.
func (s *SpecSummary) Status() speccheck.Outcome {
	switch {
	case s.Failed > 0:
		return speccheck.Failed
	case s.Errors > 0:
		return speccheck.Errored
	case s.Passed > 0:
		return speccheck.Passed
	}
	return speccheck.Skipped
}

// MeasuredText formats the measured value for people: the number,
// "undefined (why)", or "" when the step was not measured.
func (c CheckValue) MeasuredText() string {
	switch {
	case c.Measured != nil:
		return speccheck.FormatNumber(*c.Measured)
	case c.Undefined != "":
		return "undefined (" + c.Undefined + ")"
	}
	return ""
}

// ThresholdText formats the threshold as specs write it.
func (c CheckValue) ThresholdText() string { return speccheck.FormatNumber(c.Threshold) }
