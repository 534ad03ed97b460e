package httpapi

import (
	"net/http"

	"github.com/trellisml/trellis/internal/route"
	"github.com/trellisml/trellis/internal/trellis"
	"github.com/trellisml/trellis/internal/work"
)

type templateList struct {
	Templates []work.Template `json:"templates"`
}

func (api *API) listTemplates(w http.ResponseWriter, r *http.Request) error {
	ts, err := api.work.Templates(r.Context(), route.ProjectFrom(r.Context()))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, templateList{Templates: ts})
}

// TemplateRequest is the body of PUT /templates/{name}.
type TemplateRequest struct {
	Kind        work.Kind `json:"kind"`
	Title       string    `json:"title"`
	Description string    `json:"description"`
	SubTasks    []string  `json:"sub_tasks"`
}

func (api *API) saveTemplate(w http.ResponseWriter, r *http.Request) error {
	name, err := pathValue(r, "name")
	if err != nil {
		return err
	}
	var req TemplateRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	t, err := api.work.SaveTemplate(r.Context(), route.ProjectFrom(r.Context()),
		work.Template{Name: name, Kind: req.Kind, Title: req.Title, Description: req.Description, SubTasks: req.SubTasks})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, t)
}

func (api *API) createFromTemplate(w http.ResponseWriter, r *http.Request) error {
	name, err := pathValue(r, "name")
	if err != nil {
		return err
	}
	var req work.NewItem
	if err := decode(r, &req); err != nil {
		return err
	}
	if req.Kind != "" {
		return trellis.Invalid("kind", "the template decides the kind; leave kind out")
	}
	it, err := api.work.CreateFromTemplate(r.Context(), route.ProjectFrom(r.Context()), work.FromTemplate{Template: name, Item: req})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, it)
}
