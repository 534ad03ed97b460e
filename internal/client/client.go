// Package client is the Go client of the /api/v1 JSON API. The CLI uses it,
// and so do the end-to-end tests, so the API is exercised the way users
// exercise it.
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
	"time"

	"github.com/trellisml/trellis/internal/auth"
	"github.com/trellisml/trellis/internal/goal"
	"github.com/trellisml/trellis/internal/project"
)

// Client talks to one Trellis server as one user.
type Client struct {
	base  string
	token string
	user  string // with password: HTTP basic instead of a token
	pass  string
	http  *http.Client
}

// New returns a client for the server at baseURL authenticating with an API
// token ("" for anonymous calls).
func New(baseURL, token string) *Client {
	return &Client{base: strings.TrimRight(baseURL, "/"), token: token, http: &http.Client{Timeout: 60 * time.Second}}
}

// NewWithPassword returns a client that authenticates with HTTP basic; the
// CLI uses it once, at login, to mint a token.
func NewWithPassword(baseURL, user, password string) *Client {
	c := New(baseURL, "")
	c.user, c.pass = user, password
	return c
}

// Error is an error answer from the server.
type Error struct {
	Status  int
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field"`
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s (field %s)", e.Message, e.Field)
	}
	return e.Message
}

func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+"/api/v1"+path, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	switch {
	case c.token != "":
		req.Header.Set("Authorization", "Bearer "+c.token)
	case c.user != "":
		req.SetBasicAuth(c.user, c.pass)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 400 {
		var eb struct {
			Error Error `json:"error"`
		}
		raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		if json.Unmarshal(raw, &eb) != nil || eb.Error.Message == "" {
			eb.Error.Message = fmt.Sprintf("%s %s: HTTP %d: %s", method, path, resp.StatusCode, strings.TrimSpace(string(raw)))
		}
		eb.Error.Status = resp.StatusCode
		return &eb.Error
	}
	if out == nil {
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("%s %s: decode answer: %w", method, path, err)
	}
	return nil
}

// Me is the answer of GET /me.
type Me struct {
	User  auth.User  `json:"user"`
	Scope auth.Scope `json:"scope"`
	Via   string     `json:"via"`
}

// Me returns the authenticated user.
func (c *Client) Me(ctx context.Context) (*Me, error) {
	var m Me
	return &m, c.do(ctx, "GET", "/me", nil, &m)
}

// CreatedToken is a new token and its one-time secret.
type CreatedToken struct {
	Token  auth.Token `json:"token"`
	Secret string     `json:"secret"`
}

// CreateToken mints an API token. expires is like "90d" or "never".
func (c *Client) CreateToken(ctx context.Context, name string, scope auth.Scope, expires string) (*CreatedToken, error) {
	var out CreatedToken
	in := map[string]string{"name": name, "scope": string(scope), "expires": expires}
	return &out, c.do(ctx, "POST", "/tokens", in, &out)
}

// Tokens lists the caller's tokens.
func (c *Client) Tokens(ctx context.Context) ([]auth.Token, error) {
	var out struct {
		Tokens []auth.Token `json:"tokens"`
	}
	return out.Tokens, c.do(ctx, "GET", "/tokens", nil, &out)
}

// RevokeToken revokes one of the caller's tokens.
func (c *Client) RevokeToken(ctx context.Context, id string) error {
	return c.do(ctx, "DELETE", "/tokens/"+url.PathEscape(id), nil, nil)
}

// CreateUser creates a user (instance admins).
func (c *Client) CreateUser(ctx context.Context, name, password string, admin bool) error {
	return c.do(ctx, "POST", "/users", map[string]any{"name": name, "password": password, "admin": admin}, nil)
}

// Projects lists the caller's projects.
func (c *Client) Projects(ctx context.Context, includeArchived bool) ([]project.Project, error) {
	var out struct {
		Projects []project.Project `json:"projects"`
	}
	path := "/projects"
	if includeArchived {
		path += "?archived=true"
	}
	return out.Projects, c.do(ctx, "GET", path, nil, &out)
}

// CreateProject creates a project with the caller as admin.
func (c *Client) CreateProject(ctx context.Context, p project.NewProject) (*project.Project, error) {
	var out project.Project
	return &out, c.do(ctx, "POST", "/projects", p, &out)
}

// Project returns one project.
func (c *Client) Project(ctx context.Context, key string) (*project.Project, error) {
	var out project.Project
	return &out, c.do(ctx, "GET", "/projects/"+url.PathEscape(key), nil, &out)
}

// UpdateProject changes a project.
func (c *Client) UpdateProject(ctx context.Context, key string, upd project.ProjectUpdate) (*project.Project, error) {
	var out project.Project
	return &out, c.do(ctx, "PATCH", "/projects/"+url.PathEscape(key), upd, &out)
}

// Members lists a project's members.
func (c *Client) Members(ctx context.Context, key string) ([]project.Member, error) {
	var out struct {
		Members []project.Member `json:"members"`
	}
	return out.Members, c.do(ctx, "GET", "/projects/"+url.PathEscape(key)+"/members", nil, &out)
}

// SetMember adds a member or changes their role.
func (c *Client) SetMember(ctx context.Context, key, user string, role auth.Role) (*project.Member, error) {
	var out project.Member
	return &out, c.do(ctx, "PUT", "/projects/"+url.PathEscape(key)+"/members/"+url.PathEscape(user), map[string]string{"role": string(role)}, &out)
}

// RemoveMember removes a member.
func (c *Client) RemoveMember(ctx context.Context, key, user string) error {
	return c.do(ctx, "DELETE", "/projects/"+url.PathEscape(key)+"/members/"+url.PathEscape(user), nil, nil)
}

// EvaluateGoals evaluates the goals a spec states (its Then steps) against
// the runs linked to item in project.
func (c *Client) EvaluateGoals(ctx context.Context, project, item, name string, spec []byte) (*goal.EvaluationJSON, error) {
	var out goal.EvaluationJSON
	in := map[string]string{"spec": string(spec), "name": name}
	return &out, c.do(ctx, "POST", "/projects/"+url.PathEscape(project)+"/goals/evaluate?item="+url.QueryEscape(item), in, &out)
}
