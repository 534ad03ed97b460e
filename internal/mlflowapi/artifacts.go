package mlflowapi

import (
	"io"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"

	"github.com/trellisml/trellis/internal/blob"
	"github.com/trellisml/trellis/internal/trellis"
	"github.com/trellisml/trellis/internal/work"
)

// Artifacts live in the blob store under "mlflow/<experiment id>/<run
// id>/artifacts/...": the part of an mlflow-artifacts:/ URI after the colon
// and slash. The first segment must be an experiment of the request's
// project, so one project cannot reach another's files.
const blobPrefix = "mlflow/"

func (api *API) artifactEndpoints() []endpoint {
	return []endpoint{
		{"GET", "/artifacts", false, api.proxyList},
		{"GET", "/artifacts/{path...}", false, api.proxyGet},
		{"PUT", "/artifacts/{path...}", true, api.proxyPut},
		{"DELETE", "/artifacts/{path...}", true, api.proxyDelete},
		{"POST", "/mpu/create/{path...}", true, api.multipart},
		{"POST", "/mpu/complete/{path...}", true, api.multipart},
		{"POST", "/mpu/abort/{path...}", true, api.multipart},
	}
}

// artifactKey validates a proxy path and returns its blob key. Errors:
// EINVALID for any path that is not a clean relative path, ENOTFOUND when
// its experiment is not in proj.
func (api *API) artifactKey(r *http.Request, proj *work.Project, p string) (string, error) {
	key, err := blob.CleanKey(p)
	if err != nil {
		return "", err
	}
	if strings.ContainsAny(key, ":") || strings.HasPrefix(strings.ToLower(key), "file") && strings.Contains(key, "//") {
		return "", trellis.Invalid("path", "artifact path %q is invalid: it must be a relative path", p)
	}
	exp, _, _ := strings.Cut(key, "/")
	if _, err := strconv.ParseInt(exp, 10, 64); err != nil {
		return "", trellis.Invalid("path", "artifact path %q must start with an experiment id", p)
	}
	if _, err := api.tracking.Experiment(r.Context(), proj, exp); err != nil {
		return "", err
	}
	return blobPrefix + key, nil
}

type wireFile struct {
	Path     string `json:"path"`
	IsDir    bool   `json:"is_dir"`
	FileSize int64  `json:"file_size,omitempty"`
}

func (api *API) list(r *http.Request, proj *work.Project, dir, relTo string) ([]wireFile, error) {
	if dir == "" {
		return nil, nil
	}
	key, err := api.artifactKey(r, proj, dir)
	if err != nil {
		return nil, err
	}
	es, err := api.blobs.List(r.Context(), key)
	if err != nil {
		return nil, err
	}
	files := make([]wireFile, 0, len(es))
	for _, e := range es {
		rel := strings.TrimPrefix(strings.TrimPrefix(e.Path, blobPrefix+relTo), "/")
		f := wireFile{Path: rel, IsDir: e.IsDir}
		if !e.IsDir {
			f.FileSize = e.Size
		}
		files = append(files, f)
	}
	return files, nil
}

func (api *API) proxyList(w http.ResponseWriter, r *http.Request, proj *work.Project) error {
	p := r.URL.Query().Get("path")
	files, err := api.list(r, proj, p, "")
	if err != nil {
		return err
	}
	return ok(w, struct {
		Files []wireFile `json:"files,omitempty"`
	}{files})
}

func (api *API) proxyGet(w http.ResponseWriter, r *http.Request, proj *work.Project) error {
	key, err := api.artifactKey(r, proj, r.PathValue("path"))
	if err != nil {
		return err
	}
	rc, err := api.blobs.Get(r.Context(), key)
	if err != nil {
		return err
	}
	defer rc.Close()
	// Always a download: an artifact is user content and must never render
	// as a page of this origin.
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": path.Base(key)}))
	w.Header().Set("Content-Security-Policy", "default-src 'none'; sandbox")
	_, err = io.Copy(w, rc)
	if err != nil {
		api.log.WarnContext(r.Context(), "artifact download interrupted", "key", key, "err", err)
	}
	return nil
}

func (api *API) proxyPut(w http.ResponseWriter, r *http.Request, proj *work.Project) error {
	key, err := api.artifactKey(r, proj, r.PathValue("path"))
	if err != nil {
		return err
	}
	if err := api.blobs.Put(r.Context(), key, r.Body); err != nil {
		if _, ok := err.(*http.MaxBytesError); ok || strings.Contains(err.Error(), "request body too large") {
			return trellis.Errorf(trellis.ETOOLARGE, "The artifact exceeds the upload limit of %d bytes.", int64(maxArtifactBody))
		}
		return err
	}
	return ok(w, empty{})
}

func (api *API) proxyDelete(w http.ResponseWriter, r *http.Request, proj *work.Project) error {
	key, err := api.artifactKey(r, proj, r.PathValue("path"))
	if err != nil {
		return err
	}
	if err := api.blobs.Delete(r.Context(), key); err != nil {
		return err
	}
	return ok(w, empty{})
}

// multipart answers MLflow's multipart-upload calls. The filesystem store
// takes single PUTs of any size up to the limit, so, like MLflow's own local
// artifact repository, it does not offer multipart uploads; the path is
// still validated so no trick reaches the store.
func (api *API) multipart(w http.ResponseWriter, r *http.Request, proj *work.Project) error {
	if _, err := api.artifactKey(r, proj, r.PathValue("path")); err != nil {
		return err
	}
	writeJSON(w, http.StatusNotImplemented, errorBody{ErrorCode: "NOT_IMPLEMENTED",
		Message: "Multipart upload is not supported by this artifact store; upload with a single PUT to /api/2.0/mlflow-artifacts/artifacts/<path>."})
	return nil
}

// listRunArtifacts is the tracking API's artifacts/list.
func (api *API) listRunArtifacts(w http.ResponseWriter, r *http.Request, proj *work.Project) error {
	var req struct {
		runIDReq
		Path string `json:"path"`
	}
	if err := decode(r, &req); err != nil {
		return err
	}
	id, err := req.id()
	if err != nil {
		return err
	}
	run, err := api.tracking.Run(r.Context(), proj, id)
	if err != nil {
		return err
	}
	root, ok2 := strings.CutPrefix(run.Info.ArtifactURI, "mlflow-artifacts:/")
	if !ok2 {
		return trellis.Invalid("run_id", "run %s keeps artifacts outside this server", id)
	}
	dir := root
	if req.Path != "" {
		if _, err := blob.CleanKey(req.Path); err != nil {
			return err
		}
		dir = root + "/" + req.Path
	}
	files, err := api.list(r, proj, dir, root)
	if err != nil {
		return err
	}
	return ok(w, struct {
		RootURI string     `json:"root_uri"`
		Files   []wireFile `json:"files,omitempty"`
	}{run.Info.ArtifactURI, files})
}
