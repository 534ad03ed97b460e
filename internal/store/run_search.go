package store

import (
	"strconv"
	"strings"

	"github.com/trellisml/trellis/internal/tracking"
	"github.com/trellisml/trellis/internal/trellis"
)

// sqlBuilder compiles a parsed filter to a parameterized SQL condition:
// values only ever travel as arguments, never as SQL text.
type sqlBuilder struct {
	dialect Dialect
	args    []any
}

func (b *sqlBuilder) arg(v any) string {
	b.args = append(b.args, v)
	return "$" + strconv.Itoa(len(b.args))
}

func (b *sqlBuilder) bool(e tracking.Expr, leaf func(*tracking.Comparison) (string, error)) (string, error) {
	switch e := e.(type) {
	case *tracking.And:
		l, err := b.bool(e.L, leaf)
		if err != nil {
			return "", err
		}
		r, err := b.bool(e.R, leaf)
		return "(" + l + " AND " + r + ")", err
	case *tracking.Or:
		l, err := b.bool(e.L, leaf)
		if err != nil {
			return "", err
		}
		r, err := b.bool(e.R, leaf)
		return "(" + l + " OR " + r + ")", err
	case *tracking.Comparison:
		return leaf(e)
	}
	return "", trellis.Invalid("filter", "unsupported filter expression")
}

func (b *sqlBuilder) runExpr(e tracking.Expr) (string, error) { return b.bool(e, b.runComparison) }

func (b *sqlBuilder) experimentExpr(e tracking.Expr) (string, error) {
	return b.bool(e, b.experimentComparison)
}

func runAttributeColumn(name string) string {
	switch name {
	case "run_id":
		return "r.id"
	case "run_name":
		return "r.name"
	case "created":
		return "r.start_time"
	}
	return "r." + name // status, user_id, artifact_uri, lifecycle_stage, start_time, end_time, experiment_id
}

// likeToGlob turns a LIKE pattern into the case-sensitive GLOB SQLite needs
// (SQLite's LIKE ignores ASCII case; MLflow's LIKE does not).
func likeToGlob(p string) string {
	var g strings.Builder
	for _, r := range p {
		switch r {
		case '%':
			g.WriteByte('*')
		case '_':
			g.WriteByte('?')
		case '*', '?', '[', ']':
			g.WriteString("[" + string(r) + "]")
		default:
			g.WriteRune(r)
		}
	}
	return g.String()
}

// textCondition compiles a string comparison of col.
func (b *sqlBuilder) textCondition(col string, c *tracking.Comparison) string {
	switch c.Op {
	case "LIKE":
		if b.dialect == SQLite {
			return col + " GLOB " + b.arg(likeToGlob(c.Str))
		}
		return col + " LIKE " + b.arg(c.Str)
	case "ILIKE":
		return "LOWER(" + col + ") LIKE LOWER(" + b.arg(c.Str) + ")"
	case "IN", "NOT_IN":
		ps := make([]string, len(c.List))
		for i, v := range c.List {
			ps[i] = b.arg(v)
		}
		op := " IN ("
		if c.Op == "NOT_IN" {
			op = " NOT IN ("
		}
		return col + op + strings.Join(ps, ", ") + ")"
	}
	return col + " " + c.Op + " " + b.arg(c.Str)
}

func (b *sqlBuilder) numCondition(col string, c *tracking.Comparison) string {
	return col + " " + c.Op + " CAST(" + b.arg(c.Num) + " AS DOUBLE PRECISION)"
}

// keyed compiles a condition on a key/value table row of the run: the run
// must have the key (MLflow's inner-join semantics), except IS NULL, which
// asks for its absence.
func (b *sqlBuilder) keyed(table, owner, ownerCol string, c *tracking.Comparison, cond func(col string) string) string {
	exists := "EXISTS (SELECT 1 FROM " + table + " x WHERE x." + ownerCol + " = " + owner + " AND x.key = " + b.arg(c.Key)
	switch c.Op {
	case "IS_NULL":
		return "NOT " + exists + ")"
	case "IS_NOT_NULL":
		return exists + ")"
	}
	return exists + " AND " + cond("x.value") + ")"
}

func (b *sqlBuilder) runComparison(c *tracking.Comparison) (string, error) {
	switch c.Entity {
	case tracking.EntityMetric:
		return b.keyed("tracking_latest_metrics", "r.id", "run_id", c, func(col string) string { return b.numCondition(col, c) }), nil
	case tracking.EntityParam:
		return b.keyed("tracking_params", "r.id", "run_id", c, func(col string) string { return b.textCondition(col, c) }), nil
	case tracking.EntityTag:
		return b.keyed("tracking_run_tags", "r.id", "run_id", c, func(col string) string { return b.textCondition(col, c) }), nil
	case tracking.EntityDataset:
		return b.datasetCondition(c), nil
	}
	col := runAttributeColumn(c.Key)
	switch c.Op {
	case "IS_NULL":
		return col + " IS NULL", nil
	case "IS_NOT_NULL":
		return col + " IS NOT NULL", nil
	}
	if c.Key == "experiment_id" {
		return b.idCondition(col, c)
	}
	if numeric, _ := tracking.RunAttributeNumeric(c.Key); numeric {
		return b.numCondition(col, c), nil
	}
	return b.textCondition(col, c), nil
}

// datasetCondition compiles a datasets. condition with MLflow's semantics:
// the run matches when one of its dataset inputs does, so a run with no
// inputs matches none, and != or NOT IN match a run that has some other
// dataset besides the excluded one. context is the input's
// mlflow.data.context tag; an input without it matches no context
// condition.
func (b *sqlBuilder) datasetCondition(c *tracking.Comparison) string {
	if c.Key == "context" {
		return "EXISTS (SELECT 1 FROM tracking_run_inputs i JOIN tracking_input_tags it ON it.input_id = i.id WHERE i.run_id = r.id AND it.key = " +
			b.arg(tracking.TagDataContext) + " AND " + b.textCondition("it.value", c) + ")"
	}
	col := "d.name"
	if c.Key == "digest" {
		col = "d.digest"
	}
	return "EXISTS (SELECT 1 FROM tracking_run_inputs i JOIN tracking_datasets d ON d.id = i.dataset_id WHERE i.run_id = r.id AND " +
		b.textCondition(col, c) + ")"
}

// idCondition compares an integer id column with MLflow's string ids.
func (b *sqlBuilder) idCondition(col string, c *tracking.Comparison) (string, error) {
	vals := c.List
	if vals == nil {
		vals = []string{c.Str}
	}
	ids := make([]string, len(vals))
	for i, v := range vals {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return "", trellis.Invalid("filter", "Invalid filter at column %d: experiment_id %q is not a number", c.Col, v)
		}
		ids[i] = b.arg(n)
	}
	switch c.Op {
	case "IN":
		return col + " IN (" + strings.Join(ids, ", ") + ")", nil
	case "NOT_IN":
		return col + " NOT IN (" + strings.Join(ids, ", ") + ")", nil
	case "=", "!=":
		return col + " " + c.Op + " " + ids[0], nil
	}
	return "", trellis.Invalid("filter", "Invalid filter at column %d: experiment_id compares with =, !=, IN or NOT IN", c.Col)
}

func (b *sqlBuilder) experimentComparison(c *tracking.Comparison) (string, error) {
	if c.Entity == tracking.EntityTag {
		return b.keyed("tracking_experiment_tags", "e.id", "experiment_id", c, func(col string) string { return b.textCondition(col, c) }), nil
	}
	col := map[string]string{"name": "e.name", "experiment_id": "e.id", "creation_time": "e.created_at", "last_update_time": "e.updated_at", "lifecycle_stage": "e.lifecycle_stage"}[c.Key]
	switch c.Op {
	case "IS_NULL":
		return col + " IS NULL", nil
	case "IS_NOT_NULL":
		return col + " IS NOT NULL", nil
	}
	switch c.Key {
	case "experiment_id":
		return b.idCondition(col, c)
	case "creation_time", "last_update_time":
		return b.numCondition(col, c), nil
	}
	return b.textCondition(col, c), nil
}
