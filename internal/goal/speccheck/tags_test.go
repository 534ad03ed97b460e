package speccheck

import "testing"

func TestTagExpr(t *testing.T) {
	cases := []struct {
		expr string
		tags []string
		want bool
	}{
		{"", nil, true},
		{"@smoke", []string{"@smoke"}, true},
		{"@smoke", []string{"@slow"}, false},
		{"not @slow", []string{"@smoke"}, true},
		{"@smoke and not @slow", []string{"@smoke", "@slow"}, false},
		{"@smoke and not @slow", []string{"@smoke"}, true},
		{"@a or @b and @c", []string{"@a"}, true}, // and binds tighter than or
		{"(@a or @b) and @c", []string{"@a"}, false},
		{"(@a or @b) and @c", []string{"@b", "@c"}, true},
		{"not not @a", []string{"@a"}, true},
		{`@with\ space`, []string{"@with space"}, true},
		{`@x\(y\)`, []string{"@x(y)"}, true},
	}
	for _, c := range cases {
		e, err := ParseTagExpr(c.expr)
		if err != nil {
			t.Errorf("ParseTagExpr(%q): %v", c.expr, err)
			continue
		}
		if got := e.Match(c.tags); got != c.want {
			t.Errorf("%q matches %v = %v, want %v", c.expr, c.tags, got, c.want)
		}
	}
}

func TestTagExprErrors(t *testing.T) {
	deep := ""
	for range 200 {
		deep += "("
	}
	for _, expr := range []string{"@a and", "and @a", "(@a", "@a)", "smoke", "@a @b", "not", `@a\`, deep + "@a"} {
		if _, err := ParseTagExpr(expr); err == nil {
			t.Errorf("ParseTagExpr(%q) = nil error, want one", expr)
		}
	}
}
