package mlflowapi

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/trellisml/trellis/internal/blob"
	"github.com/trellisml/trellis/internal/project"
	"github.com/trellisml/trellis/internal/tracking"
	"github.com/trellisml/trellis/internal/trellis"
)

// Artifacts live in the blob store under "mlflow/<experiment id>/<run
// id>/artifacts/...": the part of an mlflow-artifacts:/ URI after the colon
// and slash. The first segment must be the canonical id of an experiment of
// the request's project, so one project cannot reach another's files.
// Experiment ids are unique across projects (tracking_experiments.id, never
// reused: experiments and projects are only ever marked deleted), so the
// id alone keeps projects apart. MLflow's alias "0" of a project's Default
// experiment, and every other spelling of an id ("00", "+0", "-0", "01"),
// is refused: the key is only ever the id as the experiment's runs record
// it in their artifact_uri.
const blobPrefix = tracking.ArtifactBlobPrefix

func (api *API) artifactEndpoints() []endpoint {
	return []endpoint{
		{"GET", "/artifacts", false, api.proxyList},
		{"GET", "/artifacts/{path...}", false, api.proxyGet},
		{"PUT", "/artifacts/{path...}", true, api.proxyPut},
		{"DELETE", "/artifacts/{path...}", true, api.proxyDelete},
		{"POST", "/mpu/create/{path...}", true, api.mpuCreate},
		{"POST", "/mpu/complete/{path...}", true, api.mpuFinish(true)},
		{"POST", "/mpu/abort/{path...}", true, api.mpuFinish(false)},
	}
}

// canonicalID reports whether s is a positive experiment id written as the
// server writes it: decimal digits, no sign, no leading zero.
func canonicalID(s string) bool {
	n, err := strconv.ParseInt(s, 10, 64)
	return err == nil && n > 0 && strconv.FormatInt(n, 10) == s
}

// artifactKey validates a proxy path and returns its blob key, built from
// the experiment's own id. Errors: EINVALID for any path that is not a
// clean relative path starting with an experiment id in canonical form,
// ENOTFOUND when that experiment is not in proj.
func (api *API) artifactKey(r *http.Request, proj *project.Project, p string) (string, error) {
	key, err := blob.CleanKey(p)
	if err != nil {
		return "", err
	}
	if strings.ContainsAny(key, ":") || strings.HasPrefix(strings.ToLower(key), "file") && strings.Contains(key, "//") {
		return "", trellis.Invalid("path", "artifact path %q is invalid: it must be a relative path", p)
	}
	seg, rest, _ := strings.Cut(key, "/")
	if !canonicalID(seg) {
		return "", trellis.Invalid("path", "artifact path %q must start with an experiment id as the run's artifact_uri has it, such as 12/<run id>/artifacts/: %q is not one (no sign, leading zero or alias 0)", p, seg)
	}
	e, err := api.tracking.Experiment(r.Context(), proj, seg)
	if err != nil {
		return "", err
	}
	key = blobPrefix + strconv.FormatInt(e.ID, 10)
	if rest != "" {
		key += "/" + rest
	}
	return key, nil
}

type wireFile struct {
	Path     string `json:"path"`
	IsDir    bool   `json:"is_dir"`
	FileSize int64  `json:"file_size,omitempty"`
}

// list returns the entries directly under the proxy path dir, sorted by
// name as MLflow's local artifact repository sorts them, each named by base
// followed by its name: MLflow's proxied listing names them relative to the
// folder asked for (base ""), its run listing relative to the run's root.
// An empty dir lists nothing: the artifact root holds every project's
// experiments.
func (api *API) list(r *http.Request, proj *project.Project, dir, base string) ([]wireFile, error) {
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
		f := wireFile{Path: base + path.Base(e.Path), IsDir: e.IsDir}
		if !e.IsDir {
			f.FileSize = e.Size
		}
		files = append(files, f)
	}
	slices.SortFunc(files, func(a, b wireFile) int { return strings.Compare(a.Path, b.Path) })
	return files, nil
}

// proxyList is mlflow-artifacts' GET artifacts?path=DIR. As in MLflow, one
// trailing slash is allowed.
func (api *API) proxyList(w http.ResponseWriter, r *http.Request, proj *project.Project) error {
	p := strings.TrimSuffix(r.URL.Query().Get("path"), "/")
	files, err := api.list(r, proj, p, "")
	if err != nil {
		return err
	}
	return ok(w, struct {
		Files []wireFile `json:"files,omitempty"`
	}{files})
}

func (api *API) proxyGet(w http.ResponseWriter, r *http.Request, proj *project.Project) error {
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

func (api *API) proxyPut(w http.ResponseWriter, r *http.Request, proj *project.Project) error {
	key, err := api.artifactKey(r, proj, r.PathValue("path"))
	if err != nil {
		return err
	}
	body := &uploadBody{r: r.Body}
	if err := api.blobs.Put(r.Context(), key, body); err != nil {
		return uploadError(r, body, err)
	}
	return ok(w, empty{})
}

// uploadBody reads an upload's request body and keeps the error reading it
// failed with, so that a failed upload is blamed on the client when the
// body was at fault.
type uploadBody struct {
	r   io.Reader
	err error
}

func (b *uploadBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err != nil && err != io.EOF {
		b.err = err
	}
	return n, err
}

// uploadError returns what a failed upload means to the client: ETOOLARGE
// for a body over the limit, EINVALID for one that ended before its
// Content-Length or whose client went away (a truncated or aborted upload
// is the client's error, not the server's), else err itself; an error with
// a code of its own (a wrong secret, an unknown upload) keeps it.
func uploadError(r *http.Request, body *uploadBody, err error) error {
	var mbe *http.MaxBytesError
	switch {
	case errors.As(body.err, &mbe):
		return trellis.Errorf(trellis.ETOOLARGE, "The upload exceeds the limit of %d bytes.", mbe.Limit)
	case trellis.ErrorCode(err) != trellis.EINTERNAL: // the request's own fault, answered as it is
		return err
	case body.err != nil || r.Context().Err() != nil:
		return trellis.Invalid("body", "The upload ended before its body was complete (shorter than its Content-Length, or the client went away); nothing was stored.")
	}
	return err
}

func (api *API) proxyDelete(w http.ResponseWriter, r *http.Request, proj *project.Project) error {
	key, err := api.artifactKey(r, proj, r.PathValue("path"))
	if err != nil {
		return err
	}
	if err := api.blobs.Delete(r.Context(), key); err != nil {
		return err
	}
	return ok(w, empty{})
}

// Multipart uploads. MLflow's own server offers them only for cloud stores,
// whose part URLs are presigned; for its local store it answers
// NOT_IMPLEMENTED. Trellis offers them for its directory store with the
// same shape: mpu/create answers one URL per part under this server
// (…/mlflow-artifacts/mpu/part/UPLOAD/N), and the client PUTs each part
// there. MLflow's client sends those PUTs with only the headers the
// credential lists, not the tracking token, so the credential carries the
// upload's secret in uploadSecretHeader, like a presigned URL carries its
// signature: it lets one write staging parts of one upload for a day.
// Nothing becomes an artifact until mpu/complete, which needs an editor of
// the project and the same path as mpu/create.

// uploadSecretHeader carries an upload's secret to its part URLs; a header,
// not a query parameter, so that it stays out of request logs.
const uploadSecretHeader = "X-Trellis-Upload-Secret"

// notSupportedMessage is MLflow's message for a store without multipart
// uploads; the MLflow client falls back to one PUT when a 501 starts with
// it.
const notSupportedMessage = "Multipart upload is not supported for the current artifact repository"

func (api *API) multipartStore(w http.ResponseWriter) (blob.Multipart, bool) {
	mp, ok := api.blobs.(blob.Multipart)
	if !ok {
		writeJSON(w, http.StatusNotImplemented, errorBody{ErrorCode: "NOT_IMPLEMENTED",
			Message: notSupportedMessage + "; upload with a single PUT to /api/2.0/mlflow-artifacts/artifacts/<path>."})
	}
	return mp, ok
}

// mpuKey returns the blob key an mpu call targets: MLflow's client puts
// the artifact's directory in the URL and the local file's path in the
// body's "path", whose last element (after / or \) names the artifact.
func (api *API) mpuKey(r *http.Request, proj *project.Project, local string) (string, error) {
	name := local
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	if name == "" {
		return "", trellis.Invalid("path", "path must name the file being uploaded, such as model.bin")
	}
	return api.artifactKey(r, proj, r.PathValue("path")+"/"+name)
}

type wireCredential struct {
	URL        string            `json:"url"`
	PartNumber int               `json:"part_number"`
	Headers    map[string]string `json:"headers"`
}

func (api *API) mpuCreate(w http.ResponseWriter, r *http.Request, proj *project.Project) error {
	var req struct {
		Path     string `json:"path"`
		NumParts jint   `json:"num_parts"`
	}
	if err := decode(r, &req); err != nil {
		return err
	}
	if err := required("path", req.Path != ""); err != nil {
		return err
	}
	key, err := api.mpuKey(r, proj, req.Path)
	if err != nil {
		return err
	}
	mp, ok2 := api.multipartStore(w)
	if !ok2 {
		return nil
	}
	if req.NumParts.V < 1 || req.NumParts.V > blob.MaxParts {
		return trellis.Invalid("num_parts", "num_parts must be between 1 and %d, not %d", blob.MaxParts, req.NumParts.V)
	}
	u, secret, err := mp.CreateUpload(r.Context(), key, int(req.NumParts.V))
	if err != nil {
		return err
	}
	// Part URLs go to the same mount the client used (/p/KEY or the root),
	// at the server's external URL.
	prefix, _, _ := strings.Cut(r.URL.Path, artifactsPrefix+"/")
	base := api.baseURL + prefix + artifactsPrefix + "/mpu/part/" + u.ID + "/"
	creds := make([]wireCredential, u.Parts)
	for i := range creds {
		creds[i] = wireCredential{URL: base + strconv.Itoa(i+1), PartNumber: i + 1, Headers: map[string]string{uploadSecretHeader: secret}}
	}
	return ok(w, struct {
		UploadID    string           `json:"upload_id"`
		Credentials []wireCredential `json:"credentials"`
	}{u.ID, creds})
}

// mpuUpload finds the upload an mpu/complete or mpu/abort names and checks
// that it is the upload of the path the request names, so a caller can
// only finish uploads into artifacts their project may write.
func (api *API) mpuUpload(r *http.Request, proj *project.Project, mp blob.Multipart, local, id string) (*blob.Upload, error) {
	if err := required("path", local != ""); err != nil {
		return nil, err
	}
	if err := required("upload_id", id != ""); err != nil {
		return nil, err
	}
	key, err := api.mpuKey(r, proj, local)
	if err != nil {
		return nil, err
	}
	u, err := mp.FindUpload(r.Context(), id)
	if err != nil {
		return nil, err
	}
	if u.Key != key {
		return nil, trellis.Invalid("upload_id", "upload %s is not an upload of this path", id)
	}
	return u, nil
}

// mpuFinish is mpu/complete (complete) or mpu/abort: both name the upload
// and its path; complete also lists the parts.
func (api *API) mpuFinish(complete bool) func(http.ResponseWriter, *http.Request, *project.Project) error {
	return func(w http.ResponseWriter, r *http.Request, proj *project.Project) error {
		var req struct {
			Path     string `json:"path"`
			UploadID string `json:"upload_id"`
			Parts    []struct {
				PartNumber jint   `json:"part_number"`
				ETag       string `json:"etag"`
			} `json:"parts"`
		}
		if err := decode(r, &req); err != nil {
			return err
		}
		mp, ok2 := api.multipartStore(w)
		if !ok2 {
			return nil
		}
		u, err := api.mpuUpload(r, proj, mp, req.Path, req.UploadID)
		if err != nil {
			return err
		}
		if !complete {
			if err := mp.AbortUpload(r.Context(), u.ID); err != nil {
				return err
			}
			return ok(w, empty{})
		}
		parts := make([]blob.Part, len(req.Parts))
		for i, p := range req.Parts {
			if p.PartNumber.V < 1 || p.PartNumber.V > int64(u.Parts) {
				return trellis.Invalid("parts", "part_number %d is outside 1..%d", p.PartNumber.V, u.Parts)
			}
			parts[i] = blob.Part{Number: int(p.PartNumber.V), ETag: p.ETag}
		}
		if err := mp.CompleteUpload(r.Context(), u.ID, parts); err != nil {
			return err
		}
		return ok(w, empty{})
	}
}

// mpuPart takes one part of an upload. Its route is public: the upload's
// secret, checked by the store, is the authority (see above).
func (api *API) mpuPart(w http.ResponseWriter, r *http.Request) error {
	mp, ok2 := api.multipartStore(w)
	if !ok2 {
		return nil
	}
	n, err := strconv.Atoi(r.PathValue("part"))
	if err != nil {
		return trellis.Invalid("part_number", "part number %q must be an integer", r.PathValue("part"))
	}
	body := &uploadBody{r: r.Body}
	etag, err := mp.PutPart(r.Context(), r.PathValue("upload"), r.Header.Get(uploadSecretHeader), n, body)
	if err != nil {
		return uploadError(r, body, err)
	}
	w.Header().Set("ETag", etag)
	return ok(w, empty{})
}

// listRunArtifacts is the tracking API's artifacts/list.
func (api *API) listRunArtifacts(w http.ResponseWriter, r *http.Request, proj *project.Project) error {
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
	dir, base := root, ""
	if req.Path != "" {
		rel, err := blob.CleanKey(req.Path)
		if err != nil {
			return err
		}
		dir, base = root+"/"+rel, rel+"/"
	}
	files, err := api.list(r, proj, dir, base)
	if err != nil {
		return err
	}
	return ok(w, struct {
		RootURI string     `json:"root_uri"`
		Files   []wireFile `json:"files,omitempty"`
	}{run.Info.ArtifactURI, files})
}
