package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
)

// MLflowClient speaks MLflow's standard tracking REST protocol
// (/api/2.0/mlflow) to a Trellis server, under a project's tracking URI
// <server>/p/<KEY> when a project is given. trellis spec check uses it to
// read the metrics of runs for run-based steps and to log its results as a
// run linked to an item (tag trellis.item).
type MLflowClient struct {
	server string
	base   string // tracking URI
	token  string
	http   *http.Client
}

// NewMLflowClient returns a client for server's tracking URI of project
// ("" for the server-wide mount) authenticating with an API token.
func NewMLflowClient(server, project, token string) *MLflowClient {
	base := strings.TrimRight(server, "/")
	if project != "" {
		base += "/p/" + url.PathEscape(project)
	}
	return &MLflowClient{server: strings.TrimRight(server, "/"), base: base, token: token, http: &http.Client{Timeout: 60 * time.Second}}
}

// MLflowError is an MLflow error answer.
type MLflowError struct {
	Status    int
	ErrorCode string `json:"error_code"`
	Message   string `json:"message"`
}

// Error reports the server's message with MLflow's error code.
func (e *MLflowError) Error() string {
	return fmt.Sprintf("%s (%s, HTTP %d)", e.Message, e.ErrorCode, e.Status)
}

func (c *MLflowClient) do(ctx context.Context, method, path string, query url.Values, in, out any) error {
	return c.doURL(ctx, method, c.base+"/api/2.0/mlflow/"+path, path, query, in, out)
}

// doURL sends a JSON request to u; name is what errors call it.
func (c *MLflowClient) doURL(ctx context.Context, method, u, path string, query url.Values, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	if resp.StatusCode >= 400 {
		e := &MLflowError{Status: resp.StatusCode}
		var v1 struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		if json.Unmarshal(raw, e) != nil || e.Message == "" {
			// /api/v1 answers {"error":{"code","message"}}.
			if json.Unmarshal(raw, &v1) == nil && v1.Error.Message != "" {
				e.ErrorCode, e.Message = v1.Error.Code, v1.Error.Message
			}
		}
		if e.Message == "" {
			e.Message = fmt.Sprintf("%s %s: %s", method, path, strings.TrimSpace(string(raw)))
		}
		return e
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return fmt.Errorf("%s %s: decode answer: %w", method, path, err)
		}
	}
	return nil
}

type mlflowRun struct {
	Info struct {
		RunID        string `json:"run_id"`
		ExperimentID string `json:"experiment_id"`
		ArtifactURI  string `json:"artifact_uri"`
		StartTime    int64  `json:"start_time"`
	} `json:"info"`
	Data struct {
		Metrics []struct {
			Key   string  `json:"key"`
			Value float64 `json:"value"`
		} `json:"metrics"`
	} `json:"data"`
}

func (r *mlflowRun) metrics() map[string]float64 {
	out := make(map[string]float64, len(r.Data.Metrics))
	for _, m := range r.Data.Metrics {
		out[m.Key] = m.Value // runs/get answers with each metric's latest value
	}
	return out
}

// RunMetrics returns the latest value of every metric of run id
// (GET runs/get?run_id=).
func (c *MLflowClient) RunMetrics(ctx context.Context, runID string) (map[string]float64, error) {
	var out struct {
		Run mlflowRun `json:"run"`
	}
	if err := c.do(ctx, "GET", "runs/get", url.Values{"run_id": {runID}}, nil, &out); err != nil {
		return nil, fmt.Errorf("run %q: %w", runID, err)
	}
	return out.Run.metrics(), nil
}

// itemProject is the project key an item key belongs to ("BAL" of
// "BAL-7"), "" when the key does not look like one.
func itemProject(itemKey string) string {
	i := strings.LastIndexByte(itemKey, '-')
	if i <= 0 {
		return ""
	}
	return itemKey[:i]
}

// LatestRunOfItem returns the most recently started active run linked to
// the item — by its trellis.item tag, a mention of its key in the run or
// experiment name or note, or by hand — and its metrics. The links come
// from GET /api/v1/projects/{P}/items/{KEY}/runs of the item's project P;
// the run from runs/search over P's tracking URI, so deleted runs are
// skipped.
func (c *MLflowClient) LatestRunOfItem(ctx context.Context, itemKey string) (string, map[string]float64, error) {
	proj := itemProject(itemKey)
	if proj == "" {
		return "", nil, fmt.Errorf("item key %q must look like PROJECT-12", itemKey)
	}
	var links struct {
		Links []struct {
			RunID string `json:"run_id"`
		} `json:"links"`
	}
	u := c.server + "/api/v1/projects/" + url.PathEscape(proj) + "/items/" + url.PathEscape(itemKey) + "/runs"
	if err := c.doURL(ctx, "GET", u, "items/"+itemKey+"/runs", nil, nil, &links); err != nil {
		return "", nil, fmt.Errorf("runs of item %q: %w", itemKey, err)
	}
	if len(links.Links) == 0 {
		return "", nil, fmt.Errorf("no runs linked to item %q", itemKey)
	}
	pc := NewMLflowClient(c.server, proj, c.token)
	var ids []string
	token := ""
	for {
		var exps struct {
			Experiments []struct {
				ID string `json:"experiment_id"`
			} `json:"experiments"`
			NextPageToken string `json:"next_page_token"`
		}
		in := map[string]any{"max_results": 1000, "page_token": token}
		if err := pc.do(ctx, "POST", "experiments/search", nil, in, &exps); err != nil {
			return "", nil, err
		}
		for _, e := range exps.Experiments {
			ids = append(ids, e.ID)
		}
		if token = exps.NextPageToken; token == "" {
			break
		}
	}
	if len(ids) == 0 {
		return "", nil, fmt.Errorf("no active runs linked to item %q: project %s has no active experiments", itemKey, proj)
	}
	// The latest run of each chunk of 500 ids (500 quoted ids keep the
	// filter under the search language's 20,000 characters), then the
	// latest of those.
	var latest *mlflowRun
	for rest := links.Links; len(rest) > 0; {
		n := min(len(rest), 500)
		quoted := make([]string, n)
		for i, l := range rest[:n] {
			quoted[i] = "'" + strings.ReplaceAll(l.RunID, "'", "\\'") + "'"
		}
		rest = rest[n:]
		var runs struct {
			Runs []mlflowRun `json:"runs"`
		}
		in := map[string]any{
			"experiment_ids": ids,
			"filter":         "attributes.run_id IN (" + strings.Join(quoted, ",") + ")",
			"order_by":       []string{"attributes.start_time DESC"},
			"max_results":    1,
		}
		if err := pc.do(ctx, "POST", "runs/search", nil, in, &runs); err != nil {
			return "", nil, err
		}
		if len(runs.Runs) > 0 && (latest == nil || runs.Runs[0].Info.StartTime > latest.Info.StartTime) {
			latest = &runs.Runs[0]
		}
	}
	if latest == nil {
		return "", nil, fmt.Errorf("no active runs linked to item %q", itemKey)
	}
	return latest.Info.RunID, latest.metrics(), nil
}

// ExperimentID returns the id of the experiment named name, creating it if
// it does not exist.
func (c *MLflowClient) ExperimentID(ctx context.Context, name string) (string, error) {
	var got struct {
		Experiment struct {
			ID string `json:"experiment_id"`
		} `json:"experiment"`
	}
	err := c.do(ctx, "GET", "experiments/get-by-name", url.Values{"experiment_name": {name}}, nil, &got)
	var me *MLflowError
	switch {
	case err == nil:
		return got.Experiment.ID, nil
	case errors.As(err, &me) && me.ErrorCode == "RESOURCE_DOES_NOT_EXIST":
	default:
		return "", err
	}
	var created struct {
		ID string `json:"experiment_id"`
	}
	if err := c.do(ctx, "POST", "experiments/create", nil, map[string]any{"name": name}, &created); err != nil {
		return "", err
	}
	return created.ID, nil
}

// CreateRun starts a run in experiment with tags (runs/create) and
// returns its id and artifact URI.
func (c *MLflowClient) CreateRun(ctx context.Context, experimentID, name string, start time.Time, tags map[string]string) (id, artifactURI string, err error) {
	in := map[string]any{
		"experiment_id": experimentID,
		"run_name":      name,
		"start_time":    start.UnixMilli(),
		"tags":          tagList(tags),
	}
	var out struct {
		Run mlflowRun `json:"run"`
	}
	if err := c.do(ctx, "POST", "runs/create", nil, in, &out); err != nil {
		return "", "", err
	}
	return out.Run.Info.RunID, out.Run.Info.ArtifactURI, nil
}

// ErrNoArtifactProxy is UploadArtifact's answer for a run whose artifacts
// live outside the server (an experiment with its own artifact location).
var ErrNoArtifactProxy = errors.New("the run's artifacts are not stored on the Trellis server")

// UploadArtifact stores data as the file name (a relative path) under the
// run's artifact URI through the server's artifact proxy
// (PUT mlflow-artifacts/artifacts/...), when that URI is a
// mlflow-artifacts: one.
func (c *MLflowClient) UploadArtifact(ctx context.Context, artifactURI, name string, data []byte) error {
	rest, ok := strings.CutPrefix(artifactURI, "mlflow-artifacts:/")
	if !ok {
		return ErrNoArtifactProxy
	}
	var segs []string
	for _, p := range strings.Split(strings.Trim(rest, "/")+"/"+name, "/") {
		segs = append(segs, url.PathEscape(p))
	}
	u := c.base + "/api/2.0/mlflow-artifacts/artifacts/" + strings.Join(segs, "/")
	req, err := http.NewRequestWithContext(ctx, "PUT", u, bytes.NewReader(data))
	if err != nil {
		return err
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("upload %s: %w", name, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode >= 300 {
		return fmt.Errorf("upload %s: HTTP %d: %s", name, resp.StatusCode, strings.TrimSpace(string(raw)))
	}
	return nil
}

// mlflowBatchLimit is MLflow's limit of metrics per log-batch call.
const mlflowBatchLimit = 1000

// LogMetrics logs metrics (at time at, step 0) and tags to run in
// log-batch calls of at most 1000 metrics, in name order.
func (c *MLflowClient) LogMetrics(ctx context.Context, runID string, at time.Time, metrics map[string]float64, tags map[string]string) error {
	keys := make([]string, 0, len(metrics))
	for k := range metrics {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	type metric struct {
		Key       string  `json:"key"`
		Value     float64 `json:"value"`
		Timestamp int64   `json:"timestamp"`
		Step      int64   `json:"step"`
	}
	batch := []metric{}
	flush := func(tags []map[string]string) error {
		in := map[string]any{"run_id": runID, "metrics": batch, "tags": tags}
		batch = batch[:0]
		return c.do(ctx, "POST", "runs/log-batch", nil, in, nil)
	}
	for _, k := range keys {
		batch = append(batch, metric{Key: k, Value: metrics[k], Timestamp: at.UnixMilli()})
		if len(batch) == mlflowBatchLimit {
			if err := flush([]map[string]string{}); err != nil {
				return err
			}
		}
	}
	return flush(tagList(tags))
}

// FinishRun marks run as ended with status (FINISHED, FAILED) via runs/update.
func (c *MLflowClient) FinishRun(ctx context.Context, runID, status string, end time.Time) error {
	in := map[string]any{"run_id": runID, "status": status, "end_time": end.UnixMilli()}
	return c.do(ctx, "POST", "runs/update", nil, in, nil)
}

func tagList(tags map[string]string) []map[string]string {
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]map[string]string, 0, len(keys))
	for _, k := range keys {
		out = append(out, map[string]string{"key": k, "value": tags[k]})
	}
	return out
}
