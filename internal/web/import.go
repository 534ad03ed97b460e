package web

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/trellisml/trellis/internal/route"
	"github.com/trellisml/trellis/internal/trellis"
	"github.com/trellisml/trellis/internal/work"
)

type importView struct {
	layout
	Result  *work.ImportResult
	Message string
	Fields  []string
}

// importPage offers the CSV upload.
func (ui *UI) importPage(w http.ResponseWriter, r *http.Request) error {
	proj := route.ProjectFrom(r.Context())
	v := &importView{layout: ui.base(r, "Import · "+proj.Name, "backlog"), Fields: work.ImportFields}
	if n, err := strconv.Atoi(r.URL.Query().Get("imported")); err == nil && n >= 0 {
		// Where a successful import lands: a number, never echoed text.
		v.Result = &work.ImportResult{Imported: n}
	}
	return ui.render(w, http.StatusOK, "import", v)
}

// importSubmit imports the uploaded CSV, all or nothing, and shows the
// refused rows by line.
func (ui *UI) importSubmit(w http.ResponseWriter, r *http.Request) error {
	proj := route.ProjectFrom(r.Context())
	v := &importView{layout: ui.base(r, "Import · "+proj.Name, "backlog"), Fields: work.ImportFields}
	if err := r.ParseMultipartForm(1 << 20); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return trellis.Errorf(trellis.ETOOLARGE, "The file is too large; split it.")
		}
		return trellis.Errorf(trellis.EINVALID, "The upload could not be read.")
	}
	f, _, err := r.FormFile("file")
	if err != nil {
		v.Message = "Choose a CSV file."
		return ui.render(w, http.StatusBadRequest, "import", v)
	}
	defer f.Close()
	res, err := ui.work.ImportCSV(r.Context(), proj, f, work.ImportOptions{Jira: r.FormValue("mapping") == "jira"})
	if err != nil {
		if _, ok := formStatuses[trellis.ErrorCode(err)]; ok {
			v.Message = sentence(userMessage(err))
			return ui.render(w, route.Status(err), "import", v)
		}
		return err
	}
	if len(res.Errors) > 0 {
		v.Result = res
		return ui.render(w, http.StatusBadRequest, "import", v)
	}
	return redirect(w, r, "/p/"+proj.Key+"/import?imported="+strconv.Itoa(res.Imported))
}
