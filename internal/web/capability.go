package web

import (
	"net/http"

	"github.com/trellisml/trellis/internal/route"
)

// capability is a section of a project that a later capability fills. Until
// then its page says so plainly instead of showing made-up data.
type capability struct {
	Slug    string // URL segment and icon name
	Title   string
	Summary string // what the page will be for
	Arrives string // the honest empty state
}

// capabilities are the project sections in navigation order.
var capabilities = []capability{
	{"runs", "Runs",
		"Training and evaluation runs with their params, metrics, tags and artifacts, grouped by tracking experiment and logged by unchanged MLflow code.",
		"Logged by MLflow clients at the project tracking URI."},
	{"goals", "Goals",
		"Measurable goals and Gherkin acceptance specs, checked on every run and in CI, so that progress is a chart instead of a feeling.",
		"Goals arrive with the goals capability."},
	{"models", "Models",
		"Registered models with versions and aliases, model cards, requirements beyond quality metrics, stage gates and the handoff checklist.",
		"The model registry arrives with the registry capability."},
	{"data", "Data",
		"Datasets and their immutable versions, with contracts for schema and quality, validation of every new version, and drift monitoring.",
		"Datasets arrive with the data capability."},
}

type capabilityView struct {
	layout
	Capability capability
}

func (ui *UI) capabilityPage(c capability) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		proj := route.ProjectFrom(r.Context())
		v := &capabilityView{layout: ui.base(r, c.Title+" · "+proj.Name, c.Slug), Capability: c}
		return ui.render(w, http.StatusOK, "capability", v)
	}
}
