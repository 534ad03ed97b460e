package client

import (
	"context"
	"strconv"

	"github.com/trellisml/trellis/internal/goal"
)

// PutSpec attaches a spec to an item (a new version when the text differs
// from the latest) and returns it checked; Created tells whether a version
// was added. A spec that does not parse is an *Error with Status 400 whose
// Message lists name:line: message for each problem.
func (c *Client) PutSpec(ctx context.Context, project, item, name string, text []byte) (*goal.ItemSpec, error) {
	var out goal.ItemSpec
	in := map[string]string{"name": name, "text": string(text)}
	return &out, c.do(ctx, "PUT", projectPath(project, "items", item, "spec"), in, &out)
}

// Spec returns the latest version of an item's spec with its latest results.
func (c *Client) Spec(ctx context.Context, project, item string) (*goal.ItemSpec, error) {
	var out goal.ItemSpec
	return &out, c.do(ctx, "GET", projectPath(project, "items", item, "spec"), nil, &out)
}

// SpecVersions lists the versions of an item's spec, newest first, without
// their text.
func (c *Client) SpecVersions(ctx context.Context, project, item string) ([]*goal.SpecVersion, error) {
	var out struct {
		Versions []*goal.SpecVersion `json:"versions"`
	}
	return out.Versions, c.do(ctx, "GET", projectPath(project, "items", item, "spec", "versions"), nil, &out)
}

// SpecVersion returns version n of an item's spec with its text.
func (c *Client) SpecVersion(ctx context.Context, project, item string, n int) (*goal.SpecVersion, error) {
	var out goal.SpecVersion
	return &out, c.do(ctx, "GET", projectPath(project, "items", item, "spec", "versions", strconv.Itoa(n)), nil, &out)
}

// CheckSpec has the server check an item's spec now and returns the new
// results.
func (c *Client) CheckSpec(ctx context.Context, project, item string) (*goal.ItemSpec, error) {
	var out goal.ItemSpec
	return &out, c.do(ctx, "POST", projectPath(project, "items", item, "spec", "check"), nil, &out)
}
