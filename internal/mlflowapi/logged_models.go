package mlflowapi

import (
	"net/http"

	"github.com/trellisml/trellis/internal/project"
)

// searchLoggedModels is MLflow 3's logged-models/search, which its client
// calls to resolve a runs:/RUN/PATH URI (listing and downloading a run's
// artifacts by sub-path, log_table, log_figure): it looks for a logged
// model named by PATH's first segment before falling back to the run's
// own artifacts. Trellis keeps no logged models yet, so every search
// answers MLflow's empty page, {}, after checking the request as MLflow's
// handler does (experiment_ids present, a list of strings; max_results an
// integer). The filter and page token are not read: no model matches any.
func (api *API) searchLoggedModels(w http.ResponseWriter, r *http.Request, _ *project.Project) error {
	var req struct {
		ExperimentIDs *[]string `json:"experiment_ids"`
		Filter        string    `json:"filter"`
		MaxResults    jint      `json:"max_results"`
		PageToken     string    `json:"page_token"`
	}
	if err := decode(r, &req); err != nil {
		return err
	}
	if err := required("experiment_ids", req.ExperimentIDs != nil); err != nil {
		return err
	}
	return ok(w, struct {
		Models        []struct{} `json:"models,omitempty"`
		NextPageToken string     `json:"next_page_token,omitempty"`
	}{})
}
