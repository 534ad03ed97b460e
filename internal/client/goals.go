package client

import (
	"context"

	"github.com/trellisml/trellis/internal/goal"
)

// goalsPath is the goal list of an item, or of the project when item is
// empty.
func goalsPath(project, item string, rest ...string) string {
	if item == "" {
		return projectPath(project, append([]string{"goals"}, rest...)...)
	}
	return projectPath(project, append([]string{"items", item, "goals"}, rest...)...)
}

// Goals lists the goals of an item, or the project's own goals when item
// is empty.
func (c *Client) Goals(ctx context.Context, project, item string) ([]*goal.StoredGoal, error) {
	var out struct {
		Goals []*goal.StoredGoal `json:"goals"`
	}
	return out.Goals, c.do(ctx, "GET", goalsPath(project, item), nil, &out)
}

// AddGoal attaches g to an item, or to the project when item is empty.
func (c *Client) AddGoal(ctx context.Context, project, item string, g goal.Goal) (*goal.StoredGoal, error) {
	var out goal.StoredGoal
	return &out, c.do(ctx, "POST", goalsPath(project, item), g, &out)
}

// UpdateGoal changes the fields of a goal that upd sets.
func (c *Client) UpdateGoal(ctx context.Context, project, id string, upd goal.GoalUpdate) (*goal.StoredGoal, error) {
	var out goal.StoredGoal
	return &out, c.do(ctx, "PATCH", projectPath(project, "goals", id), upd, &out)
}

// DeleteGoal deletes a goal.
func (c *Client) DeleteGoal(ctx context.Context, project, id string) error {
	return c.do(ctx, "DELETE", projectPath(project, "goals", id), nil, nil)
}

// GoalEvaluation evaluates the stored goals of an item against its linked
// runs, or the project's own goals against all its runs when item is empty.
func (c *Client) GoalEvaluation(ctx context.Context, project, item string) (*goal.EvaluationJSON, error) {
	var out goal.EvaluationJSON
	return &out, c.do(ctx, "GET", goalsPath(project, item, "evaluation"), nil, &out)
}

// GoalProgress returns how many goals of each item with goals are met, by
// item key.
func (c *Client) GoalProgress(ctx context.Context, project string) (map[string]goal.GoalProgress, error) {
	var out struct {
		Items map[string]struct {
			Met   int `json:"met"`
			Total int `json:"total"`
		} `json:"items"`
	}
	if err := c.do(ctx, "GET", projectPath(project, "goals", "progress"), nil, &out); err != nil {
		return nil, err
	}
	m := make(map[string]goal.GoalProgress, len(out.Items))
	for k, v := range out.Items {
		m[k] = goal.GoalProgress{Met: v.Met, Total: v.Total}
	}
	return m, nil
}
