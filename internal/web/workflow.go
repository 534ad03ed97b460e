package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/trellisml/trellis/internal/auth"
	"github.com/trellisml/trellis/internal/route"
	"github.com/trellisml/trellis/internal/trellis"
	"github.com/trellisml/trellis/internal/work"
)

type planningView struct {
	layout
	Kinds        []work.Kind
	CanEdit      bool
	Form         form
	Templates    []work.Template
	TemplateForm form
	// Statuses are the workflow form's rows, in board order, the last an
	// empty one to add a status.
	Statuses   []statusRow
	Categories []string
}

// statusRow is one row of the workflow form, as typed.
type statusRow struct {
	Name, Category, WIP string
	Err                 string // why the row was refused
	N                   int    // the row's number, from 1
}

// blank reports whether the row was left empty (the add row).
func (r statusRow) blank() bool {
	return strings.TrimSpace(r.Name) == "" && strings.TrimSpace(r.WIP) == ""
}

// statusRows reads the workflow form's repeated fields, in order.
func statusRows(v url.Values) []statusRow {
	names, cats, wips := v["status_name"], v["status_category"], v["status_wip"]
	at := func(vs []string, i int) string {
		if i < len(vs) {
			return vs[i]
		}
		return ""
	}
	var rows []statusRow
	for i := range max(len(names), len(cats), len(wips)) {
		rows = append(rows, statusRow{Name: at(names, i), Category: at(cats, i), WIP: at(wips, i)})
	}
	return rows
}

// withAddRow drops the rows left empty and ends with one empty row.
func withAddRow(rows []statusRow) []statusRow {
	out := []statusRow{}
	for _, r := range rows {
		if !r.blank() || r.Err != "" {
			out = append(out, r)
		}
	}
	out = append(out, statusRow{Category: work.CategoryDoing})
	for i := range out {
		out[i].N = i + 1
	}
	return out
}

// moveRow applies a row button pressed without JavaScript ("up-2",
// "down-2", "remove-2"); it reports false for any other value.
func moveRow(rows []statusRow, action string) ([]statusRow, bool) {
	verb, n, ok := strings.Cut(action, "-")
	i, err := strconv.Atoi(n)
	if !ok || err != nil || i < 0 || i >= len(rows) {
		return rows, false
	}
	switch verb {
	case "up":
		if i > 0 {
			rows[i-1], rows[i] = rows[i], rows[i-1]
		}
	case "down":
		if i < len(rows)-1 {
			rows[i], rows[i+1] = rows[i+1], rows[i]
		}
	case "remove":
		rows = slices.Delete(rows, i, i+1)
	default:
		return rows, false
	}
	return rows, true
}

// planningPage shows the project's planning settings: point scale,
// allocation guideline, status workflow with WIP limits and the Definition
// of Done of each kind. Admins edit them.
func (ui *UI) planningPage(w http.ResponseWriter, r *http.Request) error {
	v, err := ui.planningValues(r)
	if err != nil {
		return err
	}
	return ui.renderPlanning(w, r, http.StatusOK, newForm(v), statusRows(v))
}

// planningValues fills the settings form from the stored settings.
func (ui *UI) planningValues(r *http.Request) (url.Values, error) {
	ctx := r.Context()
	proj := route.ProjectFrom(ctx)
	pl, err := ui.work.Planning(ctx, proj)
	if err != nil {
		return nil, err
	}
	ss, err := ui.work.Statuses(ctx, proj)
	if err != nil {
		return nil, err
	}
	dod, err := ui.work.DoD(ctx, proj)
	if err != nil {
		return nil, err
	}
	v := url.Values{"point_scale": {pl.PointScale}, "committed": {strconv.Itoa(pl.Allocation.Committed)},
		"experiments": {strconv.Itoa(pl.Allocation.Experiments)}, "learning": {strconv.Itoa(pl.Allocation.Learning)}}
	for _, s := range ss {
		wip := ""
		if s.WIPLimit > 0 {
			wip = strconv.Itoa(s.WIPLimit)
		}
		v.Add("status_name", s.Name)
		v.Add("status_category", s.Category)
		v.Add("status_wip", wip)
	}
	for k, ps := range dod {
		v.Set("dod_"+string(k), strings.Join(ps, "\n"))
	}
	return v, nil
}

// renderPlanning shows the planning page with the settings form f, its
// workflow rows and, when given, the template form tf.
func (ui *UI) renderPlanning(w http.ResponseWriter, r *http.Request, status int, f form, rows []statusRow, tf ...form) error {
	proj := route.ProjectFrom(r.Context())
	v := &planningView{layout: ui.base(r, "Planning settings · "+proj.Name, "sprints"),
		Kinds: work.Kinds, CanEdit: proj.Role.AtLeast(auth.RoleAdmin), Form: f, TemplateForm: newForm(url.Values{"kind": {"maintenance"}}),
		Statuses: withAddRow(rows), Categories: []string{work.CategoryTodo, work.CategoryDoing, work.CategoryDone}}
	if len(tf) > 0 {
		v.TemplateForm = tf[0]
	}
	var err error
	if v.Templates, err = ui.work.Templates(r.Context(), proj); err != nil {
		return err
	}
	return ui.render(w, status, "planning", v)
}

// parseWorkflow reads the workflow form's rows into statuses, skipping the
// rows left empty; at maps each status back to its row. A WIP limit that
// is not a number is refused beside its row.
func parseWorkflow(rows []statusRow) (ss []work.Status, at []int, ok bool) {
	ok = true
	for i := range rows {
		r := &rows[i]
		if r.blank() {
			continue
		}
		st := work.Status{Name: strings.TrimSpace(r.Name), Category: r.Category}
		if w := strings.TrimSpace(r.WIP); w != "" {
			n, err := strconv.Atoi(w)
			if err != nil {
				r.Err, ok = "The WIP limit must be a whole number (0 or empty: none).", false
			}
			st.WIPLimit = n
		}
		ss, at = append(ss, st), append(at, i)
	}
	return ss, at, ok
}

// statusMessage is a refused status's message in the words of the form.
func statusMessage(err error) string {
	msg := trellis.ErrorMessage(err)
	for _, p := range [][2]string{{"statuses.name ", "The name "}, {"wip_limit ", "The WIP limit "}} {
		if rest, found := strings.CutPrefix(msg, p[0]); found {
			return sentence(p[1] + rest)
		}
	}
	return sentence(msg)
}

// planningSave applies every planning setting; each part is validated by
// the service, and the first refusal is shown on the form.
func (ui *UI) planningSave(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	ctx := r.Context()
	proj := route.ProjectFrom(ctx)
	pf := r.PostForm
	f := newForm(pf)
	rows := statusRows(pf)
	if action := pf.Get("workflow_action"); action != "" {
		// A row button pressed without JavaScript: show the rows moved,
		// added or removed, and save nothing yet.
		rows, _ = moveRow(rows, action)
		return ui.renderPlanning(w, r, http.StatusOK, f, rows)
	}
	fail := func(err error) error {
		if _, ok := formStatuses[trellis.ErrorCode(err)]; !ok {
			return err
		}
		f.fail("", userMessage(err))
		return ui.renderPlanning(w, r, route.Status(err), f, rows)
	}
	num := func(name string) int { n, _ := strconv.Atoi(strings.TrimSpace(pf.Get(name))); return n }
	if _, err := ui.work.SetPlanning(ctx, proj, work.Planning{PointScale: pf.Get("point_scale"),
		Allocation: work.Allocation{Committed: num("committed"), Experiments: num("experiments"), Learning: num("learning")}}); err != nil {
		return fail(err)
	}
	ss, at, ok := parseWorkflow(rows)
	if !ok {
		f.fail("", "The workflow was not saved: check the statuses marked below.")
		return ui.renderPlanning(w, r, http.StatusBadRequest, f, rows)
	}
	if _, err := ui.work.SetStatuses(ctx, proj, ss); err != nil {
		var se *work.StatusError
		if errors.As(err, &se) && se.Row < len(at) {
			row := at[se.Row]
			rows[row].Err = statusMessage(err)
			f.fail("", fmt.Sprintf("The workflow was not saved: status %d is refused.", se.Row+1))
			return ui.renderPlanning(w, r, route.Status(err), f, rows)
		}
		return fail(err)
	}
	for _, k := range work.Kinds {
		if _, ok := pf["dod_"+string(k)]; !ok {
			continue
		}
		if _, err := ui.work.SetDoD(ctx, proj, k, strings.Split(strings.ReplaceAll(pf.Get("dod_"+string(k)), "\r\n", "\n"), "\n")); err != nil {
			return fail(err)
		}
	}
	return redirect(w, r, "/p/"+proj.Key+"/planning?ok=planning-saved")
}
