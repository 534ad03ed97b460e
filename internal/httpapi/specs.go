package httpapi

import (
	"net/http"
	"strconv"

	"github.com/trellisml/trellis/internal/goal"
	"github.com/trellisml/trellis/internal/route"
	"github.com/trellisml/trellis/internal/trellis"
)

// specRoutes are the spec attached to an item: viewers read it, its
// versions and its latest results; editors attach new versions and ask for
// a check.
func (api *API) specRoutes() []route.Route {
	return []route.Route{
		{Method: "GET", Pattern: "/projects/{key}/items/{item}/spec", Access: route.ProjectViewer, Handler: api.getSpec},
		{Method: "PUT", Pattern: "/projects/{key}/items/{item}/spec", Access: route.ProjectEditor, Handler: api.putSpec},
		{Method: "GET", Pattern: "/projects/{key}/items/{item}/spec/versions", Access: route.ProjectViewer, Handler: api.listSpecVersions},
		{Method: "GET", Pattern: "/projects/{key}/items/{item}/spec/versions/{version}", Access: route.ProjectViewer, Handler: api.getSpecVersion},
		{Method: "POST", Pattern: "/projects/{key}/items/{item}/spec/check", Access: route.ProjectEditor, Handler: api.checkSpec},
	}
}

// specRequest is the body of PUT .../spec: the .feature file's name and text.
type specRequest struct {
	Name string `json:"name"`
	Text string `json:"text"`
}

func (api *API) putSpec(w http.ResponseWriter, r *http.Request) error {
	var req specRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	out, err := api.goals.AttachSpec(r.Context(), route.ProjectFrom(r.Context()), r.PathValue("item"), req.Name, req.Text)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if out.Created {
		status = http.StatusCreated
	}
	return writeJSON(w, status, out)
}

func (api *API) getSpec(w http.ResponseWriter, r *http.Request) error {
	out, err := api.goals.ItemSpecOf(r.Context(), route.ProjectFrom(r.Context()), r.PathValue("item"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

// specVersionList is the answer of GET .../spec/versions.
type specVersionList struct {
	Versions []*goal.SpecVersion `json:"versions"`
}

func (api *API) listSpecVersions(w http.ResponseWriter, r *http.Request) error {
	vs, err := api.goals.SpecVersions(r.Context(), route.ProjectFrom(r.Context()), r.PathValue("item"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, specVersionList{Versions: vs})
}

func (api *API) getSpecVersion(w http.ResponseWriter, r *http.Request) error {
	n, err := strconv.Atoi(r.PathValue("version"))
	if err != nil {
		return trellis.Invalid("version", "version must be a number from 1, got %q", r.PathValue("version"))
	}
	v, err := api.goals.SpecVersion(r.Context(), route.ProjectFrom(r.Context()), r.PathValue("item"), n)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, v)
}

func (api *API) checkSpec(w http.ResponseWriter, r *http.Request) error {
	out, err := api.goals.CheckItemSpec(r.Context(), route.ProjectFrom(r.Context()), r.PathValue("item"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}
