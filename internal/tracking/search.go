package tracking

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/trellisml/trellis/internal/trellis"
)

// Entity types a filter or order key names.
const (
	EntityMetric    = "metric"
	EntityParam     = "param"
	EntityTag       = "tag"
	EntityAttribute = "attribute"
	// EntityDataset names a field of a run's dataset inputs: name, digest
	// or context (the input's mlflow.data.context tag), as in MLflow.
	EntityDataset = "dataset"
)

// datasetKeys are the fields a datasets. condition may name, as MLflow's
// DATASET_ATTRIBUTES.
var datasetKeys = []string{"name", "digest", "context"}

// Expr is a parsed filter: *And, *Or or *Comparison.
type Expr interface{ expr() }

// And holds when both sides hold.
type And struct{ L, R Expr }

// Or holds when either side holds.
type Or struct{ L, R Expr }

// Comparison is one condition: Entity.Key Op Value.
type Comparison struct {
	Entity string
	Key    string
	// Op is one of = != < <= > >= LIKE ILIKE IN NOT_IN IS_NULL IS_NOT_NULL.
	Op string
	// Str, Num or List holds the value; IsNum says which of Str and Num.
	Str   string
	Num   float64
	IsNum bool
	List  []string
	Col   int // 1-based column of the condition, for messages
}

func (*And) expr()        {}
func (*Or) expr()         {}
func (*Comparison) expr() {}

// OrderKey is one order_by clause.
type OrderKey struct {
	Entity string
	Key    string
	Desc   bool
}

type token struct {
	kind string // ident, str, num, op, lparen, rparen, comma, dot, eof
	text string
	col  int
}

func syntaxErr(field string, col int, format string, args ...any) error {
	return trellis.Invalid(field, "Invalid %s at column %d: %s", field, col, fmt.Sprintf(format, args...))
}

func lex(field, s string) ([]token, error) {
	var toks []token
	i := 0
	for i < len(s) {
		c := s[i]
		col := i + 1
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(':
			toks = append(toks, token{"lparen", "(", col})
			i++
		case c == ')':
			toks = append(toks, token{"rparen", ")", col})
			i++
		case c == ',':
			toks = append(toks, token{"comma", ",", col})
			i++
		case c == '.':
			toks = append(toks, token{"dot", ".", col})
			i++
		case c == '\'' || c == '"' || c == '`':
			j := i + 1
			var b strings.Builder
			closed := false
			for j < len(s) {
				if s[j] == c {
					if j+1 < len(s) && s[j+1] == c { // doubled quote escapes itself
						b.WriteByte(c)
						j += 2
						continue
					}
					closed = true
					break
				}
				b.WriteByte(s[j])
				j++
			}
			if !closed {
				return nil, syntaxErr(field, col, "unterminated %c-quoted string", c)
			}
			kind := "str"
			if c == '`' {
				kind = "quoted"
			} else if c == '"' {
				kind = "dstr"
			}
			toks = append(toks, token{kind, b.String(), col})
			i = j + 1
		case c == '=' || c == '<' || c == '>' || c == '!':
			two := ""
			if i+1 < len(s) {
				two = s[i : i+2]
			}
			op, n := string(c), 1
			switch two {
			case "<=", ">=", "!=":
				op, n = two, 2
			case "==":
				op, n = "=", 2
			case "<>":
				op, n = "!=", 2
			}
			if op == "!" {
				return nil, syntaxErr(field, col, "expected '!='")
			}
			toks = append(toks, token{"op", op, col})
			i += n
		case c == '-' || c == '+' || (c >= '0' && c <= '9'):
			j := i + 1
			for j < len(s) && (isDigit(s[j]) || s[j] == '.' || s[j] == 'e' || s[j] == 'E' ||
				((s[j] == '-' || s[j] == '+') && (s[j-1] == 'e' || s[j-1] == 'E'))) {
				j++
			}
			if _, err := strconv.ParseFloat(s[i:j], 64); err != nil {
				return nil, syntaxErr(field, col, "invalid number %q", s[i:j])
			}
			toks = append(toks, token{"num", s[i:j], col})
			i = j
		case isIdentStart(rune(c)):
			j := i + 1
			for j < len(s) && isIdentPart(rune(s[j])) {
				j++
			}
			toks = append(toks, token{"ident", s[i:j], col})
			i = j
		default:
			return nil, syntaxErr(field, col, "unexpected character %q", c)
		}
	}
	toks = append(toks, token{"eof", "", len(s) + 1})
	return toks, nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isIdentStart(r rune) bool {
	return r == '_' || (r < unicode.MaxASCII && unicode.IsLetter(r))
}
func isIdentPart(r rune) bool {
	return isIdentStart(r) || (r >= '0' && r <= '9') || r == '-' || r == '/' || r == ':'
}

// Bounds on a filter, so that one request cannot build a query the
// database refuses (SQLite's expression depth) or spends long planning.
const (
	maxFilterLength = 20000
	maxConditions   = 200
)

type parser struct {
	conditions int
	field      string
	toks       []token
	pos        int
	depth      int
}

func (p *parser) peek() token { return p.toks[p.pos] }
func (p *parser) next() token { t := p.toks[p.pos]; p.pos++; return t }

func (p *parser) keyword(kw string) bool {
	t := p.peek()
	if t.kind == "ident" && strings.EqualFold(t.text, kw) {
		p.pos++
		return true
	}
	return false
}

// ParseFilter parses a runs or experiments filter (MLflow's grammar plus OR
// and parentheses). An empty filter gives a nil Expr. Errors: EINVALID whose
// message names the column.
func ParseFilter(s string) (Expr, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	if len(s) > maxFilterLength {
		return nil, trellis.Invalid("filter", "a filter is at most %d characters", maxFilterLength)
	}
	toks, err := lex("filter", s)
	if err != nil {
		return nil, err
	}
	p := &parser{field: "filter", toks: toks}
	e, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.conditions > maxConditions {
		return nil, trellis.Invalid("filter", "a filter holds at most %d conditions", maxConditions)
	}
	if t := p.peek(); t.kind != "eof" {
		return nil, syntaxErr(p.field, t.col, "unexpected %q; join conditions with AND or OR", t.text)
	}
	return e, nil
}

func (p *parser) or() (Expr, error) {
	l, err := p.and()
	if err != nil {
		return nil, err
	}
	for p.keyword("OR") {
		r, err := p.and()
		if err != nil {
			return nil, err
		}
		l = &Or{l, r}
	}
	return l, nil
}

func (p *parser) and() (Expr, error) {
	l, err := p.atom()
	if err != nil {
		return nil, err
	}
	for p.keyword("AND") {
		r, err := p.atom()
		if err != nil {
			return nil, err
		}
		l = &And{l, r}
	}
	return l, nil
}

func (p *parser) atom() (Expr, error) {
	if t := p.peek(); t.kind == "lparen" {
		if p.depth > 50 {
			return nil, syntaxErr(p.field, t.col, "parentheses nested too deeply")
		}
		p.next()
		p.depth++
		e, err := p.or()
		p.depth--
		if err != nil {
			return nil, err
		}
		if t := p.next(); t.kind != "rparen" {
			return nil, syntaxErr(p.field, t.col, "expected ')'")
		}
		return e, nil
	}
	return p.comparison()
}

// identifier parses entity.key, or a bare attribute name.
func (p *parser) identifier() (entity, key string, col int, err error) {
	t := p.next()
	col = t.col
	if t.kind != "ident" && t.kind != "quoted" {
		return "", "", col, syntaxErr(p.field, col, "expected a name like metrics.`loss`, params.lr, tags.team, attributes.status or datasets.name, got %q", t.text)
	}
	if p.peek().kind != "dot" || t.kind == "quoted" {
		return EntityAttribute, t.text, col, nil
	}
	p.next()
	switch strings.ToLower(t.text) {
	case "metric", "metrics":
		entity = EntityMetric
	case "param", "params", "parameter", "parameters":
		entity = EntityParam
	case "tag", "tags":
		entity = EntityTag
	case "attribute", "attributes", "attr", "run":
		entity = EntityAttribute
	case "dataset", "datasets":
		entity = EntityDataset
	default:
		return "", "", col, syntaxErr(p.field, col, "unknown entity %q; use metrics., params., tags., attributes. or datasets.", t.text)
	}
	k := p.next()
	switch k.kind {
	case "quoted", "dstr":
		key = k.text
	case "ident":
		key = k.text
		// Unquoted keys may contain dots (metrics.val.loss).
		for p.peek().kind == "dot" && p.toks[p.pos+1].kind == "ident" {
			p.next()
			key += "." + p.next().text
		}
	default:
		return "", "", k.col, syntaxErr(p.field, k.col, "expected a key name after %q", t.text+".")
	}
	if key == "" {
		return "", "", k.col, syntaxErr(p.field, k.col, "empty key name")
	}
	return entity, key, col, nil
}

func (p *parser) comparison() (Expr, error) {
	entity, key, col, err := p.identifier()
	if err != nil {
		return nil, err
	}
	p.conditions++
	c := &Comparison{Entity: entity, Key: key, Col: col}
	t := p.peek()
	switch {
	case t.kind == "op":
		p.next()
		c.Op = t.text
		v := p.next()
		switch v.kind {
		case "str", "dstr":
			c.Str = v.text
		case "num":
			c.Num, _ = strconv.ParseFloat(v.text, 64)
			c.Str, c.IsNum = v.text, true
		default:
			return nil, syntaxErr(p.field, v.col, "expected a value ('text' or a number) after %s", c.Op)
		}
	case p.keyword("IS"):
		c.Op = "IS_NULL"
		if p.keyword("NOT") {
			c.Op = "IS_NOT_NULL"
		}
		if !p.keyword("NULL") {
			return nil, syntaxErr(p.field, p.peek().col, "expected NULL")
		}
	case p.keyword("LIKE"), p.keyword("ILIKE"):
		c.Op = strings.ToUpper(p.toks[p.pos-1].text)
		v := p.next()
		if v.kind != "str" && v.kind != "dstr" {
			return nil, syntaxErr(p.field, v.col, "expected a quoted pattern after %s", c.Op)
		}
		c.Str = v.text
	case p.keyword("NOT"), p.keyword("IN"):
		c.Op = "IN"
		if strings.EqualFold(p.toks[p.pos-1].text, "NOT") {
			if !p.keyword("IN") {
				return nil, syntaxErr(p.field, p.peek().col, "expected IN after NOT")
			}
			c.Op = "NOT_IN"
		}
		if lp := p.next(); lp.kind != "lparen" {
			return nil, syntaxErr(p.field, lp.col, "expected '(' after IN")
		}
		for {
			v := p.next()
			if v.kind != "str" && v.kind != "dstr" && v.kind != "num" {
				return nil, syntaxErr(p.field, v.col, "expected a value in the IN list")
			}
			c.List = append(c.List, v.text)
			if len(c.List) > 1000 {
				return nil, syntaxErr(p.field, v.col, "an IN list holds at most 1000 values")
			}
			sep := p.next()
			if sep.kind == "rparen" {
				break
			}
			if sep.kind != "comma" {
				return nil, syntaxErr(p.field, sep.col, "expected ',' or ')' in the IN list")
			}
		}
	default:
		return nil, syntaxErr(p.field, t.col, "expected a comparison (=, !=, <, <=, >, >=, LIKE, ILIKE, IN, NOT IN, IS NULL) after %s", key)
	}
	if err := checkComparison(p.field, c); err != nil {
		return nil, err
	}
	return c, nil
}

// runAttributes are the run attributes a filter may name, with whether they
// are numeric.
var runAttributes = map[string]bool{
	"run_id": false, "run_name": false, "status": false, "user_id": false, "artifact_uri": false,
	"lifecycle_stage": false, "start_time": true, "end_time": true, "created": true, "experiment_id": false,
}

var experimentAttributes = map[string]bool{
	"name": false, "experiment_id": false, "creation_time": true, "last_update_time": true, "lifecycle_stage": false,
}

func checkComparison(field string, c *Comparison) error {
	switch c.Entity {
	case EntityMetric:
		switch c.Op {
		case "=", "!=", "<", "<=", ">", ">=", "IS_NULL", "IS_NOT_NULL":
		default:
			return syntaxErr(field, c.Col, "metrics compare with =, !=, <, <=, >, >= or IS [NOT] NULL, not %s", strings.ReplaceAll(c.Op, "_", " "))
		}
		if (c.Op != "IS_NULL" && c.Op != "IS_NOT_NULL") && !c.IsNum {
			return syntaxErr(field, c.Col, "metrics.%s compares with a number, not a string", c.Key)
		}
	case EntityDataset:
		if !slices.Contains(datasetKeys, c.Key) {
			return syntaxErr(field, c.Col, "invalid dataset key %q; valid keys are %s", c.Key, strings.Join(datasetKeys, ", "))
		}
		switch c.Op {
		case "=", "!=", "LIKE", "ILIKE", "IN", "NOT_IN":
		default:
			return syntaxErr(field, c.Col, "datasets.%s compares with =, !=, LIKE, ILIKE, IN or NOT IN, not %s", c.Key, strings.ReplaceAll(c.Op, "_", " "))
		}
		if c.IsNum {
			return syntaxErr(field, c.Col, "datasets.%s compares with a quoted string, like '%s'", c.Key, c.Str)
		}
	case EntityParam, EntityTag:
		switch c.Op {
		case "<", "<=", ">", ">=":
			return syntaxErr(field, c.Col, "%ss compare with =, !=, LIKE, ILIKE, IN, NOT IN or IS [NOT] NULL", c.Entity)
		}
		if c.IsNum {
			return syntaxErr(field, c.Col, "%ss.%s compares with a quoted string, like '%s'", c.Entity, c.Key, c.Str)
		}
	}
	return nil
}

// ParseOrderBy parses order_by clauses such as "metrics.`val loss` DESC".
// Errors: EINVALID.
func ParseOrderBy(clauses []string) ([]OrderKey, error) {
	var keys []OrderKey
	for _, s := range clauses {
		if strings.TrimSpace(s) == "" {
			continue
		}
		toks, err := lex("order_by", s)
		if err != nil {
			return nil, err
		}
		p := &parser{field: "order_by", toks: toks}
		entity, key, _, err := p.identifier()
		if err != nil {
			return nil, err
		}
		k := OrderKey{Entity: entity, Key: key}
		if p.keyword("DESC") {
			k.Desc = true
		} else {
			p.keyword("ASC")
		}
		if t := p.peek(); t.kind != "eof" {
			return nil, syntaxErr("order_by", t.col, "unexpected %q; an order_by clause is a name and ASC or DESC", t.text)
		}
		keys = append(keys, k)
	}
	if len(keys) > 10 {
		return nil, trellis.Invalid("order_by", "at most 10 order_by clauses")
	}
	return keys, nil
}

// CheckRunQuery validates attribute names in a runs filter and order.
func checkAttributes(field string, e Expr, attrs map[string]bool) error {
	switch e := e.(type) {
	case *And:
		if err := checkAttributes(field, e.L, attrs); err != nil {
			return err
		}
		return checkAttributes(field, e.R, attrs)
	case *Or:
		if err := checkAttributes(field, e.L, attrs); err != nil {
			return err
		}
		return checkAttributes(field, e.R, attrs)
	case *Comparison:
		if e.Entity == EntityMetric && attrs["creation_time"] {
			return syntaxErr(field, e.Col, "experiments have no metrics; use attributes. or tags.")
		}
		if e.Entity == EntityParam && attrs["creation_time"] {
			return syntaxErr(field, e.Col, "experiments have no params; use attributes. or tags.")
		}
		if e.Entity == EntityDataset && attrs["creation_time"] {
			return syntaxErr(field, e.Col, "experiments have no datasets; use attributes. or tags.")
		}
		if e.Entity != EntityAttribute {
			return nil
		}
		numeric, ok := attrs[e.Key]
		if !ok {
			return syntaxErr(field, e.Col, "unknown attribute %q; valid attributes: %s", e.Key, attrNames(attrs))
		}
		if numeric && e.Op != "IS_NULL" && e.Op != "IS_NOT_NULL" && !e.IsNum {
			if e.Op == "IN" || e.Op == "NOT_IN" || e.Op == "LIKE" || e.Op == "ILIKE" {
				return syntaxErr(field, e.Col, "attributes.%s compares with =, !=, <, <=, >, >=", e.Key)
			}
			return syntaxErr(field, e.Col, "attributes.%s compares with a number", e.Key)
		}
		if !numeric && e.IsNum && e.Key != "experiment_id" {
			return syntaxErr(field, e.Col, "attributes.%s compares with a quoted string", e.Key)
		}
		if !numeric {
			switch e.Op {
			case "<", "<=", ">", ">=":
				return syntaxErr(field, e.Col, "attributes.%s compares with =, !=, LIKE, ILIKE, IN or NOT IN", e.Key)
			}
		}
	}
	return nil
}

func attrNames(attrs map[string]bool) string {
	var names []string
	for k := range attrs {
		names = append(names, k)
	}
	// Stable message text.
	for i := range names {
		for j := i + 1; j < len(names); j++ {
			if names[j] < names[i] {
				names[i], names[j] = names[j], names[i]
			}
		}
	}
	return strings.Join(names, ", ")
}

// RunAttributeNumeric reports whether a run attribute is numeric, and whether
// it exists; the store uses it to map attribute names to columns.
func RunAttributeNumeric(name string) (numeric, ok bool) {
	numeric, ok = runAttributes[name]
	return
}

// SearchInput is the common part of experiment and run searches.
type SearchInput struct {
	View       string
	Filter     string
	OrderBy    []string
	MaxResults int64
	PageToken  string
}

type pageToken struct {
	Offset int `json:"o"`
}

func encodeToken(v any) string {
	b, _ := json.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeToken(s string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		err = json.Unmarshal(b, v)
	}
	if err != nil {
		return trellis.Invalid("page_token", "Invalid page token: it must be a next_page_token returned by this server.")
	}
	return nil
}

func (in SearchInput) page(defaultMax int) (offset, limit int, err error) {
	limit = defaultMax
	if in.MaxResults < 0 || in.MaxResults > MaxResults {
		return 0, 0, trellis.Invalid("max_results", "Invalid value %d for parameter 'max_results' supplied. It must be a positive integer at most %d.", in.MaxResults, MaxResults)
	}
	if in.MaxResults > 0 {
		limit = int(in.MaxResults)
	}
	if in.PageToken != "" {
		var t pageToken
		if err := decodeToken(in.PageToken, &t); err != nil {
			return 0, 0, err
		}
		if t.Offset < 0 {
			return 0, 0, trellis.Invalid("page_token", "Invalid page token.")
		}
		offset = t.Offset
	}
	return offset, limit, nil
}

func checkView(v string) (string, error) {
	switch v {
	case "", ViewActive:
		return ViewActive, nil
	case ViewDeleted, ViewAll:
		return v, nil
	}
	return "", trellis.Invalid("view_type", "Invalid view type '%s'; use ACTIVE_ONLY, DELETED_ONLY or ALL.", v)
}

// parsedSearch is a search request checked and parsed, common to
// experiments and runs.
type parsedSearch struct {
	view          string
	offset, limit int
	filter        Expr
	order         []OrderKey
}

// parse checks the view and page, and parses the filter (whose attributes
// must be in attrs) and the order.
func (in SearchInput) parse(attrs map[string]bool) (parsedSearch, error) {
	var q parsedSearch
	var err error
	if q.view, err = checkView(in.View); err != nil {
		return q, err
	}
	if q.offset, q.limit, err = in.page(DefaultMaxResults); err != nil {
		return q, err
	}
	if q.filter, err = ParseFilter(in.Filter); err != nil {
		return q, err
	}
	if err = checkAttributes("filter", q.filter, attrs); err != nil {
		return q, err
	}
	q.order, err = ParseOrderBy(in.OrderBy)
	return q, err
}

// trimPage cuts a result fetched with limit+1 rows to limit and returns the
// token of the next page, "" when this was the last.
func trimPage[T any](xs []T, offset, limit int) ([]T, string) {
	if len(xs) <= limit {
		return xs, ""
	}
	return xs[:limit], encodeToken(pageToken{Offset: offset + limit})
}
