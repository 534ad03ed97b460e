package web

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/trellisml/trellis/internal/auth"
	"github.com/trellisml/trellis/internal/goal"
	"github.com/trellisml/trellis/internal/goal/speccheck"
	"github.com/trellisml/trellis/internal/project"
	"github.com/trellisml/trellis/internal/route"
	"github.com/trellisml/trellis/internal/trellis"
	"github.com/trellisml/trellis/internal/work"
)

// maxSpecUpload bounds an uploaded .feature file; specs are prose.
const maxSpecUpload = 1 << 20

// specRoutes are the item page's spec forms: editors attach a version
// (upload or edit) and ask for a check.
func (ui *UI) specRoutes() []route.Route {
	if ui.goals == nil {
		return nil
	}
	return []route.Route{
		{Method: "POST", Pattern: "/p/{key}/items/{item}/spec", Access: route.ProjectEditor, Handler: ui.specSave},
		{Method: "POST", Pattern: "/p/{key}/items/{item}/spec/check", Access: route.ProjectEditor, Handler: ui.specCheck},
	}
}

// specLine is one numbered line of a spec shown as code, with the parse
// errors that point at it.
type specLine struct {
	N      int
	Text   string
	Errors []string
}

// itemSpecView is the Spec section of an item page.
type itemSpecView struct {
	Enabled  bool
	CanEdit  bool
	Current  *goal.ItemSpec      // nil: no spec yet
	Shown    *goal.SpecVersion   // the version whose text is shown
	Old      bool                // Shown is not the latest version
	Lines    []specLine          // Shown's text, or the refused text
	Versions []*goal.SpecVersion // newest first
	Form     form                // name and text of the edit form
	Errors   []string            // why the submitted spec was refused
	Refused  bool
	RunNames map[string]string // the names of the runs the results read, by id
}

// specRunNamesShown bounds the runs whose names one Spec section looks up;
// the others show their id.
const specRunNamesShown = 20

// specFormKey carries a refused spec from specSave to the item page it
// re-renders, so the page shows the text with its errors inline.
type specFormKey struct{}

type refusedSpec struct {
	form   form
	errors map[int][]string // by line; line 0: no line
}

func numbered(text string, errs map[int][]string) []specLine {
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	out := make([]specLine, len(lines))
	for i, l := range lines {
		out[i] = specLine{N: i + 1, Text: l, Errors: errs[i+1]}
	}
	return out
}

// itemSpecOf fills the Spec section: the latest version (or the one named
// by ?spec_version=N) as numbered code, the version list and the latest
// results; after a refused upload, the refused text with its errors.
func (ui *UI) itemSpecOf(ctx context.Context, r *http.Request, proj *project.Project, it *work.Item) (itemSpecView, error) {
	v := itemSpecView{Enabled: ui.goals != nil, CanEdit: proj.Role.AtLeast(auth.RoleEditor)}
	if ui.goals == nil {
		return v, nil
	}
	cur, err := ui.goals.ItemSpecOf(ctx, proj, it.Key)
	switch {
	case trellis.ErrorCode(err) == trellis.ENOTFOUND:
	case err != nil:
		return v, err
	default:
		v.Current, v.Shown = cur, cur.Spec
		if v.Versions, err = ui.goals.SpecVersions(ctx, proj, it.Key); err != nil {
			return v, err
		}
		if n, err := strconv.Atoi(r.URL.Query().Get("spec_version")); err == nil && n != cur.Spec.Version {
			old, err := ui.goals.SpecVersion(ctx, proj, it.Key, n)
			if err != nil && trellis.ErrorCode(err) != trellis.ENOTFOUND && trellis.ErrorCode(err) != trellis.EINVALID {
				return v, err
			}
			if old != nil {
				v.Shown, v.Old = old, true
			}
		}
		v.Lines = numbered(v.Shown.Text, nil)
		if v.RunNames, err = ui.specRunNames(ctx, proj, cur.Results); err != nil {
			return v, err
		}
	}
	if rs, ok := ctx.Value(specFormKey{}).(*refusedSpec); ok {
		v.Form, v.Refused = rs.form, true
		v.Lines = numbered(rs.form.Get("text"), rs.errors)
		for _, l := range v.Lines {
			for _, e := range l.Errors {
				v.Errors = append(v.Errors, "Line "+strconv.Itoa(l.N)+": "+e)
			}
		}
		v.Errors = append(v.Errors, rs.errors[0]...)
		return v, nil
	}
	name := "spec.feature"
	text := ""
	if cur != nil {
		name, text = cur.Spec.Name, cur.Spec.Text
	}
	v.Form = newForm(url.Values{"name": {name}, "text": {text}})
	return v, nil
}

// specSave attaches a new version from the upload (a .feature file) or the
// edit form (name and text). A refused spec re-renders the item page with
// its errors next to their lines.
func (ui *UI) specSave(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	proj := route.ProjectFrom(ctx)
	ref := r.PathValue("item")
	var name, text string
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		if err := r.ParseMultipartForm(maxSpecUpload); err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				return trellis.Errorf(trellis.ETOOLARGE, "The file is too large for a spec.")
			}
			return trellis.Errorf(trellis.EINVALID, "The upload could not be read.")
		}
		f, hdr, err := r.FormFile("file")
		if err != nil {
			return ui.refuseSpec(w, r, ref, newForm(url.Values{"name": {""}, "text": {""}}), map[int][]string{0: {"Choose a .feature file."}})
		}
		defer f.Close()
		b, err := io.ReadAll(io.LimitReader(f, maxSpecUpload+1))
		if err != nil {
			return trellis.Errorf(trellis.EINVALID, "The upload could not be read.")
		}
		if len(b) > maxSpecUpload {
			return trellis.Errorf(trellis.ETOOLARGE, "The file is too large for a spec.")
		}
		name, text = filepath.Base(hdr.Filename), string(b)
	} else {
		if err := parseForm(r); err != nil {
			return err
		}
		name, text = r.PostForm.Get("name"), r.PostForm.Get("text")
	}
	// Browsers send textarea lines with CRLF; the stored text uses LF so
	// an unchanged edit is no new version.
	text = strings.ReplaceAll(text, "\r\n", "\n")
	out, err := ui.goals.AttachSpec(ctx, proj, ref, name, text)
	if err != nil {
		if trellis.ErrorCode(err) != trellis.EINVALID {
			return err
		}
		errs := map[int][]string{}
		var ies speccheck.Errors
		if _, perr := speccheck.ParseSpec(name, []byte(text)); errors.As(perr, &ies) {
			for _, e := range ies {
				errs[e.Line] = append(errs[e.Line], e.Msg)
			}
		} else {
			errs[0] = []string{sentence(trellis.ErrorMessage(err))}
		}
		return ui.refuseSpec(w, r, ref, newForm(url.Values{"name": {name}, "text": {text}}), errs)
	}
	ok := "spec-unchanged"
	if out.Created {
		ok = "spec-saved"
	}
	return redirect(w, r, itemURL(proj, out.Spec.Item, ok)+"#spec")
}

func (ui *UI) refuseSpec(w http.ResponseWriter, r *http.Request, ref string, f form, errs map[int][]string) error {
	r = r.WithContext(context.WithValue(r.Context(), specFormKey{}, &refusedSpec{form: f, errors: errs}))
	return ui.renderItem(w, r, http.StatusBadRequest, ref, itemForms{})
}

// specCheck checks the item's spec now.
func (ui *UI) specCheck(w http.ResponseWriter, r *http.Request) error {
	proj := route.ProjectFrom(r.Context())
	out, err := ui.goals.CheckItemSpec(r.Context(), proj, r.PathValue("item"))
	if err != nil {
		return err
	}
	return redirect(w, r, itemURL(proj, out.Spec.Item, "spec-checked")+"#spec")
}

// specSummaries are the spec badges of a board's cards, by item id: one
// query for the whole board. Nil when specs are not wired in.
func (ui *UI) specSummaries(ctx context.Context, proj *project.Project) (map[string]*goal.SpecSummary, error) {
	if ui.goals == nil {
		return nil, nil
	}
	return ui.goals.SpecSummaries(ctx, proj)
}

// The flash messages of the spec forms live here, beside the forms, rather
// than in render.go's shared table.
func init() {
	flashes["spec-saved"] = "Spec saved as a new version and checked."
	flashes["spec-unchanged"] = "The spec is unchanged: no new version."
	flashes["spec-checked"] = "Spec checked."
}

// specRunNames names the runs that spec results read, so that the results
// show a run's name beside its short id; a run since deleted keeps its id.
func (ui *UI) specRunNames(ctx context.Context, proj *project.Project, results []*goal.SpecResult) (map[string]string, error) {
	names := map[string]string{}
	if ui.track == nil {
		return names, nil
	}
	for _, res := range results {
		if _, seen := names[res.RunID]; res.RunID == "" || seen || len(names) >= specRunNamesShown {
			continue
		}
		run, err := ui.track.Run(ctx, proj, res.RunID)
		switch {
		case trellis.ErrorCode(err) == trellis.ENOTFOUND:
			names[res.RunID] = ""
		case err != nil:
			return nil, err
		default:
			names[res.RunID] = run.Info.Name
		}
	}
	return names, nil
}
