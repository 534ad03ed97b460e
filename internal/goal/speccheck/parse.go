package speccheck

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	gherkin "github.com/cucumber/gherkin/go/v42"
	messages "github.com/cucumber/messages/go/v34"
)

// Spec is a parsed and bound feature file: its scenarios, with Scenario
// Outlines expanded into one scenario per Examples row and Background steps
// prepended, as Cucumber's pickles do.
type Spec struct {
	Path      string      `json:"path"`
	Feature   string      `json:"feature"`
	Line      int         `json:"line"`
	Scenarios []*Scenario `json:"scenarios"`
}

// Scenario is one runnable scenario of a spec.
type Scenario struct {
	Name    string   `json:"name"`
	Rule    string   `json:"rule,omitempty"`
	Line    int      `json:"line"`               // the Scenario line
	RowLine int      `json:"row_line,omitempty"` // the Examples row, for outlines
	Tags    []string `json:"tags"`
	Steps   []Step   `json:"steps"`
}

// Errors is a list of input errors, reported together so that one run of
// the checker shows every problem in a file.
type Errors []*InputError

// Error lists the errors one per line.
func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// reGherkinError matches the parser's "(line:column): message" errors.
var reGherkinError = regexp.MustCompile(`^\((\d+):(\d+)\): (.*)$`)

// maxFeatureSize bounds a feature file; specs are prose, not data.
const maxFeatureSize = 4 << 20

// maxLineLength bounds a line of a feature file. The Gherkin parser reads
// lines with a bufio.Scanner, which gives up on a line of 64 KiB, and the
// parser then dereferences the line it did not get; half that leaves room
// for any line ending.
const maxLineLength = 32 << 10

// longLines returns an error for each line of src longer than
// maxLineLength bytes, not counting its line ending.
func longLines(path string, src []byte) Errors {
	var errs Errors
	for n := 1; len(src) > 0; n++ {
		line := src
		if i := bytes.IndexByte(src, '\n'); i >= 0 {
			line, src = src[:i], src[i+1:]
		} else {
			src = nil
		}
		if len(bytes.TrimSuffix(line, []byte{'\r'})) > maxLineLength {
			errs = append(errs, &InputError{File: path, Line: n, Msg: fmt.Sprintf("line is longer than %d bytes", maxLineLength)})
		}
	}
	return errs
}

// ParseSpec parses the feature file src (named path in errors) with the
// Cucumber Gherkin parser and binds every step to the vocabulary. Parse
// errors carry file:line:column (a line longer than maxLineLength is one); an unknown step names the closest known
// ones; a scenario whose steps are out of order (a check before the scoring
// step, a scoring step without labels or predictions) is an error too.
func ParseSpec(path string, src []byte) (*Spec, error) {
	if len(src) > maxFeatureSize {
		return nil, &InputError{File: path, Msg: fmt.Sprintf("feature file larger than %d bytes", maxFeatureSize)}
	}
	if errs := longLines(path, src); len(errs) > 0 {
		return nil, errs
	}
	ids := &messages.Incrementing{}
	doc, err := gherkin.ParseGherkinDocument(bytes.NewReader(src), ids.NewId)
	if err != nil {
		return nil, parseErrors(path, err)
	}
	spec := &Spec{Path: path}
	if doc == nil || doc.Feature == nil {
		return spec, nil
	}
	spec.Feature = doc.Feature.Name
	spec.Line = int(doc.Feature.Location.Line)
	ix := indexDocument(doc)
	var errs Errors
	for _, p := range gherkin.Pickles(*doc, path, ids.NewId) {
		sc := &Scenario{Name: p.Name, Tags: []string{}}
		if len(p.AstNodeIds) > 0 {
			sc.Line = ix.line[p.AstNodeIds[0]]
			sc.Rule = ix.rule[p.AstNodeIds[0]]
		}
		if len(p.AstNodeIds) > 1 {
			sc.RowLine = ix.line[p.AstNodeIds[1]]
		}
		for _, t := range p.Tags {
			sc.Tags = append(sc.Tags, t.Name)
		}
		for _, ps := range p.Steps {
			line, kw := 0, ""
			if len(ps.AstNodeIds) > 0 {
				line, kw = ix.line[ps.AstNodeIds[0]], ix.keyword[ps.AstNodeIds[0]]
			}
			st, err := BindStep(ps.Text)
			if err == nil && ps.Argument != nil {
				err = fmt.Errorf("step %s takes no data table or doc string", ps.Text)
			}
			if err != nil {
				msg := err.Error()
				if sc.RowLine != 0 {
					msg += fmt.Sprintf(" (Examples row on line %d)", sc.RowLine)
				}
				errs = append(errs, &InputError{File: path, Line: line, Msg: msg})
				continue
			}
			st.Keyword, st.Line = kw, line
			sc.Steps = append(sc.Steps, st)
		}
		if len(errs) == 0 {
			errs = append(errs, checkOrder(path, sc)...)
		}
		spec.Scenarios = append(spec.Scenarios, sc)
	}
	if len(errs) > 0 {
		return nil, dedupe(errs)
	}
	return spec, nil
}

// dedupe drops repeated errors: a bad Background step would otherwise be
// reported once per scenario.
func dedupe(errs Errors) Errors {
	seen := map[string]bool{}
	var out Errors
	for _, e := range errs {
		k := e.Error()
		if !seen[k] {
			seen[k] = true
			out = append(out, e)
		}
	}
	return out
}

// checkOrder checks that a scenario's steps can run: checks come after the
// scoring step or a run step that provides their metric.
func checkOrder(path string, sc *Scenario) Errors {
	var errs Errors
	var scored Task
	var run, checks bool
	for _, st := range sc.Steps {
		switch st.Kind {
		case StepScore:
			if scored != "" {
				errs = append(errs, &InputError{File: path, Line: st.Line, Msg: "the predictions are already scored in this scenario"})
			}
			scored = st.Task
		case StepRun, StepLatestRun:
			run = true
		case StepCheck:
			checks = true
			c := st.Check
			switch {
			case c.Logged && scored == "" && !run:
				errs = append(errs, &InputError{File: path, Line: st.Line, Msg: `this step needs a run (Given the run "RUN_ID") or scored predictions before it`})
			case !c.Logged && scored == "":
				errs = append(errs, &InputError{File: path, Line: st.Line, Msg: fmt.Sprintf(`this step needs "When the predictions are scored as %s" before it`, c.Task)})
			case !c.Logged && scored != c.Task:
				errs = append(errs, &InputError{File: path, Line: st.Line, Msg: fmt.Sprintf("this step checks a %s metric, but the predictions are scored as %s", c.Task, scored)})
			}
		}
	}
	if !checks {
		errs = append(errs, &InputError{File: path, Line: sc.Line, Msg: fmt.Sprintf("scenario %q has no Then step that checks a metric", sc.Name)})
	}
	return errs
}

// docIndex maps the AST node ids pickles refer to back to lines, keywords
// and rule names.
type docIndex struct {
	line    map[string]int
	keyword map[string]string
	rule    map[string]string
}

func indexDocument(doc *messages.GherkinDocument) docIndex {
	ix := docIndex{line: map[string]int{}, keyword: map[string]string{}, rule: map[string]string{}}
	steps := func(ss []*messages.Step) {
		for _, s := range ss {
			ix.line[s.Id] = int(s.Location.Line)
			ix.keyword[s.Id] = strings.TrimSpace(s.Keyword)
		}
	}
	scenario := func(s *messages.Scenario, rule string) {
		ix.line[s.Id] = int(s.Location.Line)
		ix.rule[s.Id] = rule
		steps(s.Steps)
		for _, ex := range s.Examples {
			for _, row := range ex.TableBody {
				ix.line[row.Id] = int(row.Location.Line)
			}
		}
	}
	for _, c := range doc.Feature.Children {
		switch {
		case c.Background != nil:
			steps(c.Background.Steps)
		case c.Scenario != nil:
			scenario(c.Scenario, "")
		case c.Rule != nil:
			for _, rc := range c.Rule.Children {
				if rc.Background != nil {
					steps(rc.Background.Steps)
				}
				if rc.Scenario != nil {
					scenario(rc.Scenario, c.Rule.Name)
				}
			}
		}
	}
	return ix
}

// parseErrors turns the Gherkin parser's errors, "(line:column): message"
// one per line, into input errors naming the file.
func parseErrors(path string, err error) Errors {
	var errs Errors
	for _, l := range strings.Split(err.Error(), "\n") {
		l = strings.TrimSpace(l)
		if l == "" || l == "Parser errors:" {
			continue
		}
		if m := reGherkinError.FindStringSubmatch(l); m != nil {
			line, _ := strconv.Atoi(m[1])
			col, _ := strconv.Atoi(m[2])
			errs = append(errs, &InputError{File: path, Line: line, Column: col, Msg: m[3]})
			continue
		}
		errs = append(errs, &InputError{File: path, Msg: l})
	}
	if len(errs) == 0 {
		errs = Errors{{File: path, Msg: err.Error()}}
	}
	return errs
}
