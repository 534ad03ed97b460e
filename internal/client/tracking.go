package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// KV is an MLflow param or tag.
type KV struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Metric is an MLflow metric point; Value is a number or "NaN",
// "Infinity", "-Infinity".
type Metric struct {
	Key       string          `json:"key"`
	Value     json.RawMessage `json:"value"`
	Timestamp int64           `json:"timestamp"`
	Step      int64           `json:"step"`
}

// Run is a run in MLflow's wire shape.
type Run struct {
	Info struct {
		RunID          string `json:"run_id"`
		RunName        string `json:"run_name"`
		ExperimentID   string `json:"experiment_id"`
		UserID         string `json:"user_id"`
		Status         string `json:"status"`
		StartTime      int64  `json:"start_time"`
		EndTime        int64  `json:"end_time,omitempty"`
		ArtifactURI    string `json:"artifact_uri"`
		LifecycleStage string `json:"lifecycle_stage"`
	} `json:"info"`
	Data struct {
		Metrics []Metric `json:"metrics,omitempty"`
		Params  []KV     `json:"params,omitempty"`
		Tags    []KV     `json:"tags,omitempty"`
	} `json:"data"`
	Inputs struct {
		DatasetInputs []DatasetInput `json:"dataset_inputs,omitempty"`
	} `json:"inputs"`
}

// DatasetInput is a dataset a run used (MLflow's log-inputs), with input
// tags such as mlflow.data.context.
type DatasetInput struct {
	Tags    []KV `json:"tags,omitempty"`
	Dataset struct {
		Name       string `json:"name"`
		Digest     string `json:"digest"`
		SourceType string `json:"source_type"`
		Source     string `json:"source"`
		Schema     string `json:"schema,omitempty"`
		Profile    string `json:"profile,omitempty"`
	} `json:"dataset"`
}

// RunSearch is the input of SearchRuns.
type RunSearch struct {
	ExperimentIDs []string `json:"experiment_ids"`
	Filter        string   `json:"filter,omitempty"`
	OrderBy       []string `json:"order_by,omitempty"`
	MaxResults    int      `json:"max_results,omitempty"`
	PageToken     string   `json:"page_token,omitempty"`
	RunViewType   string   `json:"run_view_type,omitempty"`
}

// ArtifactFile is one entry of an artifact listing.
type ArtifactFile struct {
	Path     string `json:"path"`
	IsDir    bool   `json:"is_dir"`
	FileSize int64  `json:"file_size,omitempty"`
}

// RunItemLink links a run to an item key.
type RunItemLink struct {
	RunID  string `json:"run_id"`
	Item   string `json:"item"`
	Source string `json:"source"`
}

// mlflow calls the project's MLflow surface and maps MLflow's error shape.
func (c *Client) mlflow(ctx context.Context, project, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+"/p/"+url.PathEscape(project)+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 400 {
		var eb struct {
			Code    string `json:"error_code"`
			Message string `json:"message"`
		}
		raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		if json.Unmarshal(raw, &eb) != nil || eb.Message == "" {
			eb.Message = fmt.Sprintf("%s %s: HTTP %d: %s", method, path, resp.StatusCode, strings.TrimSpace(string(raw)))
		}
		return &Error{Status: resp.StatusCode, Code: eb.Code, Message: eb.Message}
	}
	if w, ok := out.(io.Writer); ok {
		_, err := io.Copy(w, resp.Body)
		return err
	}
	if out == nil {
		return nil
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

// SearchRuns searches runs of a project's tracking experiments.
func (c *Client) SearchRuns(ctx context.Context, project string, in RunSearch) ([]Run, string, error) {
	var out struct {
		Runs []Run  `json:"runs"`
		Next string `json:"next_page_token"`
	}
	err := c.mlflow(ctx, project, "POST", "/api/2.0/mlflow/runs/search", in, &out)
	return out.Runs, out.Next, err
}

// Run returns one run.
func (c *Client) Run(ctx context.Context, project, runID string) (*Run, error) {
	var out struct {
		Run Run `json:"run"`
	}
	err := c.mlflow(ctx, project, "GET", "/api/2.0/mlflow/runs/get?run_id="+url.QueryEscape(runID), nil, &out)
	return &out.Run, err
}

// ExperimentIDs lists the ids of a project's active experiments.
func (c *Client) ExperimentIDs(ctx context.Context, project string) ([]string, error) {
	var out struct {
		Experiments []struct {
			ID string `json:"experiment_id"`
		} `json:"experiments"`
	}
	if err := c.mlflow(ctx, project, "POST", "/api/2.0/mlflow/experiments/search", map[string]any{"max_results": 50000}, &out); err != nil {
		return nil, err
	}
	ids := make([]string, len(out.Experiments))
	for i, e := range out.Experiments {
		ids[i] = e.ID
	}
	return ids, nil
}

// Artifacts lists a run's artifacts under path ("" for the top).
func (c *Client) Artifacts(ctx context.Context, project, runID, path string) ([]ArtifactFile, string, error) {
	var out struct {
		RootURI string         `json:"root_uri"`
		Files   []ArtifactFile `json:"files"`
	}
	q := "run_id=" + url.QueryEscape(runID)
	if path != "" {
		q += "&path=" + url.QueryEscape(path)
	}
	err := c.mlflow(ctx, project, "GET", "/api/2.0/mlflow/artifacts/list?"+q, nil, &out)
	return out.Files, out.RootURI, err
}

// DownloadArtifact writes an artifact of a run to w.
func (c *Client) DownloadArtifact(ctx context.Context, project, artifactURI, path string, w io.Writer) error {
	rel, ok := strings.CutPrefix(artifactURI, "mlflow-artifacts:/")
	if !ok {
		return fmt.Errorf("artifact URI %q is not on this server", artifactURI)
	}
	var segs []string
	for _, s := range strings.Split(rel+"/"+path, "/") {
		segs = append(segs, url.PathEscape(s))
	}
	return c.mlflow(ctx, project, "GET", "/api/2.0/mlflow-artifacts/artifacts/"+strings.Join(segs, "/"), nil, w)
}

// RunItems lists the items a run links to.
func (c *Client) RunItems(ctx context.Context, project, runID string) ([]RunItemLink, error) {
	var out struct {
		Links []RunItemLink `json:"links"`
	}
	err := c.do(ctx, "GET", "/projects/"+url.PathEscape(project)+"/runs/"+url.PathEscape(runID)+"/items", nil, &out)
	return out.Links, err
}

// ItemRuns lists the runs linked to an item.
func (c *Client) ItemRuns(ctx context.Context, project, item string) ([]RunItemLink, error) {
	var out struct {
		Links []RunItemLink `json:"links"`
	}
	err := c.do(ctx, "GET", "/projects/"+url.PathEscape(project)+"/items/"+url.PathEscape(item)+"/runs", nil, &out)
	return out.Links, err
}

// LinkRunItem links a run to an item by hand.
func (c *Client) LinkRunItem(ctx context.Context, project, runID, item string) error {
	return c.do(ctx, "PUT", "/projects/"+url.PathEscape(project)+"/runs/"+url.PathEscape(runID)+"/items/"+url.PathEscape(item), nil, nil)
}

// UnlinkRunItem removes a link.
func (c *Client) UnlinkRunItem(ctx context.Context, project, runID, item string) error {
	return c.do(ctx, "DELETE", "/projects/"+url.PathEscape(project)+"/runs/"+url.PathEscape(runID)+"/items/"+url.PathEscape(item), nil, nil)
}
