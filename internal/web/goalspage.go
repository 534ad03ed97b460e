package web

import (
	"net/http"
	"sort"

	"github.com/trellisml/trellis/internal/goal"
	"github.com/trellisml/trellis/internal/route"
	"github.com/trellisml/trellis/internal/work"
)

// goalsPageRow is an item with goals or a spec, as the Goals page lists it.
type goalsPageRow struct {
	Item  *work.Item
	Goals *goal.GoalProgress
	Spec  *goal.SpecSummary
}

type goalsPageView struct {
	layout
	Goals goalsSection // the project's own goals
	Rows  []goalsPageRow
	Met   int // items whose goals are all met
}

// goalsPage is the project's Goals page: the project's own goals, judged
// against all its runs, and every item that has goals or a spec, with its
// progress at a glance — the page a product owner opens to see how far the
// work is from "good enough".
func (ui *UI) goalsPage(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	proj := route.ProjectFrom(ctx)
	v := &goalsPageView{layout: ui.base(r, "Goals · "+proj.Name, "goals")}
	var err error
	if v.Goals, err = ui.goalsOf(ctx, proj, nil, form{}); err != nil {
		return err
	}
	progress, err := ui.goals.ItemProgress(ctx, proj, "", "")
	if err != nil {
		return err
	}
	specs, err := ui.goals.SpecSummaries(ctx, proj)
	if err != nil {
		return err
	}
	if len(progress) > 0 || len(specs) > 0 {
		items, err := ui.work.Items(ctx, proj, work.ItemFilter{})
		if err != nil {
			return err
		}
		for _, it := range items {
			row := goalsPageRow{Item: it, Spec: specs[it.ID]}
			if p, ok := progress[it.Key]; ok {
				row.Goals = &p
				if p.AllMet() {
					v.Met++
				}
			}
			if row.Goals != nil || row.Spec != nil {
				v.Rows = append(v.Rows, row)
			}
		}
	}
	// Open work first, then by key: what still needs attention leads.
	sort.SliceStable(v.Rows, func(i, j int) bool {
		di, dj := !v.Rows[i].Item.DoneAt.IsZero(), !v.Rows[j].Item.DoneAt.IsZero()
		if di != dj {
			return dj
		}
		return v.Rows[i].Item.Number < v.Rows[j].Item.Number
	})
	return ui.render(w, http.StatusOK, "goals", v)
}
