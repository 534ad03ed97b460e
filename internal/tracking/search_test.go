package tracking

import (
	"fmt"
	"strings"
	"testing"

	"github.com/trellisml/trellis/internal/trellis"
)

// show prints an Expr compactly for table comparisons.
func show(e Expr) string {
	switch e := e.(type) {
	case nil:
		return "<nil>"
	case *And:
		return "(" + show(e.L) + " AND " + show(e.R) + ")"
	case *Or:
		return "(" + show(e.L) + " OR " + show(e.R) + ")"
	case *Comparison:
		v := e.Str
		if e.List != nil {
			v = "[" + strings.Join(e.List, ",") + "]"
		} else if e.IsNum {
			v = fmt.Sprint(e.Num)
		}
		return e.Entity + ":" + e.Key + " " + e.Op + " " + v
	}
	return "?"
}

func TestParseFilter(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "<nil>"},
		{"metrics.m0 > 0.5 and params.p0 = 'x'", "(metric:m0 > 0.5 AND param:p0 = x)"},
		{"metrics.`val loss` <= -1e-3", "metric:val loss <= -0.001"},
		{`tags."mlflow.runName" LIKE '%BAL%'`, "tag:mlflow.runName LIKE %BAL%"},
		{"tags.mlflow.source.type = 'LOCAL'", "tag:mlflow.source.type = LOCAL"},
		{"attributes.status IN ('FINISHED', 'FAILED')", "attribute:status IN [FINISHED,FAILED]"},
		{"params.p NOT IN ('a')", "param:p NOT_IN [a]"},
		{"tags.t IS NULL", "tag:t IS_NULL "},
		{"tags.t is not null", "tag:t IS_NOT_NULL "},
		{"run_name ILIKE 'a%'", "attribute:run_name ILIKE a%"},
		{"a.b = 'x' OR params.c = 'y' AND params.d = 'z'", "ERR"},
		{"params.a = 'x' OR params.c = 'y' AND params.d = 'z'", "(param:a = x OR (param:c = y AND param:d = z))"},
		{"(params.a = 'x' OR params.c = 'y') AND params.d = 'z'", "((param:a = x OR param:c = y) AND param:d = z)"},
		{"params.a = 'it''s'", "param:a = it's"},
		{"metrics.m <> 1", "metric:m != 1"},
		{"metrics.m == 1", "metric:m = 1"},
		{"metrics.m > 'a'", "ERR"},
		{"params.p > 'a'", "ERR"},
		{"metrics.m LIKE 'a'", "ERR"},
		{"metrics.m >", "ERR"},
		{"metrics.m > 1 AND", "ERR"},
		{"metrics.m > 1 params.p = 'a'", "ERR"},
		{"(metrics.m > 1", "ERR"},
		{"params.p = 'unterminated", "ERR"},
		{"params.p IN ()", "ERR"},
		{"params.p IN ('a' 'b')", "ERR"},
		{"params.p ! 'a'", "ERR"},
		{"foo.bar = 'a'", "ERR"},
		{"metrics. = 1", "ERR"},
		{"params.p = 1", "ERR"},
		{"params.p = 'a'; DROP TABLE runs", "ERR"},
		{"datasets.name IN ('train', 'eval')", "dataset:name IN [train,eval]"},
		{"dataset.digest = 'abc'", "dataset:digest = abc"},
		{"datasets.context = 'training' AND datasets.name != 'x'", "(dataset:context = training AND dataset:name != x)"},
		{"datasets.`name` LIKE 'tr%' OR datasets.\"context\" ILIKE 'EV%'", "(dataset:name LIKE tr% OR dataset:context ILIKE EV%)"},
		{"datasets.digest NOT IN ('a', 'b')", "dataset:digest NOT_IN [a,b]"},
		{"datasets.source = 'x'", "ERR"},
		{"datasets.name.x = 'x'", "ERR"},
		{"datasets.name > 'a'", "ERR"},
		{"datasets.name IS NULL", "ERR"},
		{"datasets.digest = 1", "ERR"},
		{"datasets. = 'a'", "ERR"},
		{"datasets = 'a'", "<ATTR>"},
	}
	for _, tt := range tests {
		e, err := ParseFilter(tt.in)
		got := show(e)
		if err != nil {
			got = "ERR"
			if trellis.ErrorCode(err) != trellis.EINVALID || !strings.Contains(err.Error(), "column") {
				t.Errorf("%q: error %v does not name a column", tt.in, err)
			}
		}
		if tt.want == "<ATTR>" { // parses, and the attribute check rejects it
			if err != nil || checkAttributes("filter", e, runAttributes) == nil {
				t.Errorf("%q: got %s %v, want an unknown attribute", tt.in, got, err)
			}
			continue
		}
		if got != tt.want {
			t.Errorf("%q: got %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestFilterErrorColumn(t *testing.T) {
	_, err := ParseFilter("metrics.m > 1 AND params.p ~ 'a'")
	if err == nil || !strings.Contains(trellis.ErrorMessage(err), "column 28") {
		t.Fatalf("error %v does not point at column 28", err)
	}
}

// TestDatasetFilterErrors checks the messages of bad datasets. conditions
// name the rule and the column of the condition.
func TestDatasetFilterErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"params.p = 'a' AND datasets.source = 'x'", `column 20: invalid dataset key "source"; valid keys are name, digest, context`},
		{"datasets.name < 'b'", "column 1: datasets.name compares with =, !=, LIKE, ILIKE, IN or NOT IN, not <"},
		{"datasets.context IS NOT NULL", "column 1: datasets.context compares with =, !=, LIKE, ILIKE, IN or NOT IN, not IS NOT NULL"},
		{"datasets.digest = 12", "column 1: datasets.digest compares with a quoted string, like '12'"},
		{"sets.name = 'a'", `column 1: unknown entity "sets"; use metrics., params., tags., attributes. or datasets.`},
	}
	for _, tt := range tests {
		_, err := ParseFilter(tt.in)
		if err == nil || trellis.ErrorCode(err) != trellis.EINVALID || !strings.Contains(trellis.ErrorMessage(err), tt.want) {
			t.Errorf("%q: error %v, want %q", tt.in, err, tt.want)
		}
	}
	e, err := ParseFilter("datasets.name = 'a'")
	if err != nil {
		t.Fatal(err)
	}
	if err := checkAttributes("filter", e, experimentAttributes); err == nil || !strings.Contains(err.Error(), "experiments have no datasets") {
		t.Errorf("experiments filter by datasets: %v", err)
	}
}

func TestParseOrderBy(t *testing.T) {
	keys, err := ParseOrderBy([]string{"metrics.`val loss` DESC", "params.lr", "attributes.start_time asc"})
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(keys); got != "[{metric val loss true} {param lr false} {attribute start_time false}]" {
		t.Fatalf("order keys %s", got)
	}
	for _, bad := range []string{"metrics.m DESC x", "metrics.", "nope.x"} {
		if _, err := ParseOrderBy([]string{bad}); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestItemKeys(t *testing.T) {
	got := ItemKeys("BAL", "fixes BAL-12 and BAL-3, not CAT-1 or BAL-0 or xBAL-5 or GPT-4", "BAL-12 again")
	if fmt.Sprint(got) != "[BAL-12 BAL-3]" {
		t.Fatalf("ItemKeys = %v", got)
	}
}

// FuzzParseFilter checks that the parser never panics or hangs and that
// every accepted filter also passes attribute checks or fails cleanly.
func FuzzParseFilter(f *testing.F) {
	for _, s := range []string{"metrics.m0 > 0.5 and params.p0 = 'x'", "(tags.a = 'b' OR tags.c IN ('d','e')) AND attributes.status != 'X'",
		"metrics.`a b` IS NOT NULL", "params.p NOT IN ('a')", "run_name ILIKE '%x%'", "((((", "'", "`", "metrics.m <> -1e9",
		"datasets.name IN ('train', 'eval')", "datasets.digest = 'abc' OR dataset.context != 'training'", "datasets.context NOT IN ('a') AND datasets.name ILIKE 't%'",
		"datasets.source = 'x'", "datasets.name < 1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := ParseFilter(s)
		if err != nil {
			if trellis.ErrorCode(err) != trellis.EINVALID {
				t.Fatalf("%q: non-EINVALID error %v", s, err)
			}
			return
		}
		if err := checkAttributes("filter", e, runAttributes); err != nil && trellis.ErrorCode(err) != trellis.EINVALID {
			t.Fatalf("%q: %v", s, err)
		}
	})
}
