package client

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/trellisml/trellis/internal/work"
)

func projectPath(key string, rest ...string) string {
	p := "/projects/" + url.PathEscape(key)
	for _, r := range rest {
		p += "/" + url.PathEscape(r)
	}
	return p
}

// Items lists a project's items; filter holds the query parameters of
// GET /projects/{key}/items (kind, status, assignee, label, q, sprint, limit).
func (c *Client) Items(ctx context.Context, key string, filter url.Values) ([]*work.Item, error) {
	var out struct {
		Items []*work.Item `json:"items"`
	}
	path := projectPath(key, "items")
	if len(filter) > 0 {
		path += "?" + filter.Encode()
	}
	return out.Items, c.do(ctx, "GET", path, nil, &out)
}

// CreateItem creates an item.
func (c *Client) CreateItem(ctx context.Context, key string, in work.NewItem) (*work.Item, error) {
	var it work.Item
	return &it, c.do(ctx, "POST", projectPath(key, "items"), in, &it)
}

// Item returns one item with its sub-tasks and links.
func (c *Client) Item(ctx context.Context, key, ref string) (*work.Item, error) {
	var it work.Item
	return &it, c.do(ctx, "GET", projectPath(key, "items", ref), nil, &it)
}

// UpdateItem changes an item.
func (c *Client) UpdateItem(ctx context.Context, key, ref string, upd work.ItemUpdate) (*work.Item, error) {
	var it work.Item
	return &it, c.do(ctx, "PATCH", projectPath(key, "items", ref), upd, &it)
}

// Decision is the answer of Decide.
type Decision struct {
	Decision *work.Decision `json:"decision"`
	FollowUp *work.Item     `json:"follow_up"`
}

// Decide records the decision on an experiment item.
func (c *Client) Decide(ctx context.Context, key, ref string, in work.DecisionInput) (*Decision, error) {
	var d Decision
	return &d, c.do(ctx, "POST", projectPath(key, "items", ref, "decision"), in, &d)
}

// Sprints lists a project's sprints.
func (c *Client) Sprints(ctx context.Context, key string) ([]*work.Sprint, error) {
	var out struct {
		Sprints []*work.Sprint `json:"sprints"`
	}
	return out.Sprints, c.do(ctx, "GET", projectPath(key, "sprints"), nil, &out)
}

// CreateSprint plans a sprint.
func (c *Client) CreateSprint(ctx context.Context, key string, in work.NewSprint) (*work.Sprint, error) {
	var sp work.Sprint
	return &sp, c.do(ctx, "POST", projectPath(key, "sprints"), in, &sp)
}

// SprintPlan returns a sprint's planning view.
func (c *Client) SprintPlan(ctx context.Context, key, ref string) (*work.SprintPlan, error) {
	var p work.SprintPlan
	return &p, c.do(ctx, "GET", projectPath(key, "sprints", ref), nil, &p)
}

// StartSprint starts a planned sprint.
func (c *Client) StartSprint(ctx context.Context, key, ref string) (*work.Sprint, error) {
	var sp work.Sprint
	return &sp, c.do(ctx, "POST", projectPath(key, "sprints", ref, "start"), nil, &sp)
}

// CloseSprint closes the active sprint, moving unfinished items to "next"
// or "backlog".
func (c *Client) CloseSprint(ctx context.Context, key, ref, moveTo string) (*work.Sprint, error) {
	var sp work.Sprint
	return &sp, c.do(ctx, "POST", projectPath(key, "sprints", ref, "close"), map[string]string{"move_to": moveTo}, &sp)
}

// AddComment comments on an item.
func (c *Client) AddComment(ctx context.Context, key, ref, body string) (*work.Comment, error) {
	var cm work.Comment
	return &cm, c.do(ctx, "POST", projectPath(key, "items", ref, "comments"), map[string]string{"body": body}, &cm)
}

// ImportAnswer is the answer to ImportCSV: the created keys, or the refused
// rows (Status 400) with nothing imported.
type ImportAnswer struct {
	work.ImportResult
	Error *Error `json:"error"`
}

// ImportCSV uploads a CSV backlog. query holds mapping=jira and map.FIELD
// parameters. Refused rows are not an error: they come back in the answer
// with Error set; other failures are *Error.
func (c *Client) ImportCSV(ctx context.Context, key string, body io.Reader, size int64, query url.Values) (*ImportAnswer, error) {
	u := c.base + "/api/v1" + projectPath(key, "import")
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, "POST", u, body)
	if err != nil {
		return nil, err
	}
	req.ContentLength = size
	req.Header.Set("Content-Type", "text/csv")
	req.Header.Set("Accept", "application/json")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("import: %w", err)
	}
	defer resp.Body.Close()
	var a ImportAnswer
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err := json.Unmarshal(raw, &a); err != nil || (resp.StatusCode >= 400 && a.Error == nil) {
		return nil, &Error{Status: resp.StatusCode, Message: fmt.Sprintf("import: HTTP %d: %.300s", resp.StatusCode, raw)}
	}
	if a.Error != nil {
		a.Error.Status = resp.StatusCode
		if len(a.Errors) == 0 {
			return nil, a.Error
		}
	}
	return &a, nil
}

// Search full-text searches a project's items.
func (c *Client) Search(ctx context.Context, key, q string) ([]*work.Item, error) {
	var out struct {
		Items []*work.Item `json:"items"`
	}
	return out.Items, c.do(ctx, "GET", projectPath(key, "search")+"?q="+url.QueryEscape(q), nil, &out)
}

// Filters lists the caller's saved filters in a project.
func (c *Client) Filters(ctx context.Context, key string) ([]work.SavedFilter, error) {
	var out struct {
		Filters []work.SavedFilter `json:"filters"`
	}
	return out.Filters, c.do(ctx, "GET", projectPath(key, "filters"), nil, &out)
}
