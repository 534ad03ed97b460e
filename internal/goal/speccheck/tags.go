package speccheck

import (
	"fmt"
	"strings"
	"unicode"
)

// TagExpr is a Cucumber tag expression such as "@smoke and not @slow".
// Cucumber's own tag-expressions Go module is not served by the Go module
// proxy, so this is a small recursive-descent parser of the same grammar:
// tags, and, or, not, parentheses; not binds tightest, then and, then or;
// a backslash escapes a space or parenthesis inside a tag.
type TagExpr struct {
	src  string
	eval func(tags map[string]bool) bool
}

// ParseTagExpr parses a tag expression; "" matches every scenario.
func ParseTagExpr(s string) (*TagExpr, error) {
	toks, err := tagTokens(s)
	if err != nil {
		return nil, err
	}
	if len(toks) == 0 {
		return &TagExpr{src: s, eval: func(map[string]bool) bool { return true }}, nil
	}
	p := &tagParser{toks: toks, src: s}
	e, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.pos < len(p.toks) {
		return nil, fmt.Errorf("tag expression %q: unexpected %q", s, p.toks[p.pos])
	}
	return &TagExpr{src: s, eval: e}, nil
}

// Match reports whether a scenario with tags matches.
func (t *TagExpr) Match(tags []string) bool {
	set := make(map[string]bool, len(tags))
	for _, x := range tags {
		set[x] = true
	}
	return t.eval(set)
}

// String returns the expression as written.
func (t *TagExpr) String() string { return t.src }

func tagTokens(s string) ([]string, error) {
	var toks []string
	var cur strings.Builder
	flush := func() {
		if cur.Len() > 0 {
			toks = append(toks, cur.String())
			cur.Reset()
		}
	}
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case r == '\\':
			if i+1 >= len(rs) {
				return nil, fmt.Errorf("tag expression %q: ends with a backslash", s)
			}
			i++
			cur.WriteRune(rs[i])
		case r == '(' || r == ')':
			flush()
			toks = append(toks, string(r))
		case unicode.IsSpace(r):
			flush()
		default:
			cur.WriteRune(r)
		}
	}
	flush()
	return toks, nil
}

type tagParser struct {
	toks  []string
	pos   int
	depth int
	src   string
}

func (p *tagParser) peek() string {
	if p.pos < len(p.toks) {
		return p.toks[p.pos]
	}
	return ""
}

func (p *tagParser) or() (func(map[string]bool) bool, error) {
	l, err := p.and()
	if err != nil {
		return nil, err
	}
	for p.peek() == "or" {
		p.pos++
		r, err := p.and()
		if err != nil {
			return nil, err
		}
		a, b := l, r
		l = func(t map[string]bool) bool { return a(t) || b(t) }
	}
	return l, nil
}

func (p *tagParser) and() (func(map[string]bool) bool, error) {
	l, err := p.not()
	if err != nil {
		return nil, err
	}
	for p.peek() == "and" {
		p.pos++
		r, err := p.not()
		if err != nil {
			return nil, err
		}
		a, b := l, r
		l = func(t map[string]bool) bool { return a(t) && b(t) }
	}
	return l, nil
}

// maxTagDepth bounds nesting so a hostile expression cannot exhaust the stack.
const maxTagDepth = 100

func (p *tagParser) not() (func(map[string]bool) bool, error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxTagDepth {
		return nil, fmt.Errorf("tag expression %q: nested too deeply", p.src)
	}
	switch tok := p.peek(); tok {
	case "":
		return nil, fmt.Errorf("tag expression %q: ends where a tag was expected", p.src)
	case "not":
		p.pos++
		e, err := p.not()
		if err != nil {
			return nil, err
		}
		return func(t map[string]bool) bool { return !e(t) }, nil
	case "(":
		p.pos++
		e, err := p.or()
		if err != nil {
			return nil, err
		}
		if p.peek() != ")" {
			return nil, fmt.Errorf("tag expression %q: missing )", p.src)
		}
		p.pos++
		return e, nil
	case ")", "and", "or":
		return nil, fmt.Errorf("tag expression %q: unexpected %q where a tag was expected", p.src, tok)
	default:
		if !strings.HasPrefix(tok, "@") {
			return nil, fmt.Errorf("tag expression %q: %q is not a tag (tags start with @)", p.src, tok)
		}
		p.pos++
		return func(t map[string]bool) bool { return t[tok] }, nil
	}
}
