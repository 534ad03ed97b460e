package speccheck

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// maxMatrixClasses is the widest confusion matrix the text report prints;
// wider ones are in the JSON report.
const maxMatrixClasses = 20

var marks = map[Outcome]string{Passed: "ok  ", Failed: "FAIL", Errored: "ERR ", Skipped: "skip"}

// WriteText writes the human report: each scenario and step with its
// outcome, the measured value next to the threshold, a confusion matrix for
// classification, and a final "N passed, N failed" line.
func (r *Report) WriteText(w io.Writer) error {
	bw := &errWriter{w: w}
	shown := map[*Confusion]bool{}
	for _, f := range r.Features {
		if len(f.Scenarios) == 0 {
			continue
		}
		bw.printf("Feature: %s  (%s)\n", f.Feature, f.Path)
		for _, s := range f.Scenarios {
			bw.printf("\n  %s %s", marks[s.Outcome], scenarioTitle(s))
			if len(s.Tags) > 0 {
				bw.printf("  %s", strings.Join(s.Tags, " "))
			}
			bw.printf("  (%s)\n", location(f.Path, s.Scenario))
			var buf bytes.Buffer
			tw := tabwriter.NewWriter(&buf, 0, 4, 2, ' ', 0)
			for _, st := range s.Steps {
				fmt.Fprintf(tw, "    %s %s %s\t", marks[st.Outcome], st.Keyword, st.Text)
				if st.Measured != nil {
					fmt.Fprintf(tw, "measured %s\tthreshold %s %s", measured(*st.Measured), st.Check.Comparator, FormatNumber(*st.Threshold))
				} else {
					fmt.Fprint(tw, "\t")
				}
				fmt.Fprintln(tw)
				switch {
				case st.Measured != nil && !st.Measured.Defined:
					fmt.Fprintf(tw, "         undefined: %s\t\t\n", st.Measured.Reason)
				case st.Measured == nil && st.Message != "":
					fmt.Fprintf(tw, "         %s\t\t\n", st.Message)
				}
			}
			tw.Flush()
			for _, l := range strings.SplitAfter(buf.String(), "\n") {
				if l != "" {
					bw.printf("%s\n", strings.TrimRight(l, " \n"))
				}
			}
			switch {
			case s.Confusion == nil:
			case shown[s.Confusion]:
				bw.printf("    (confusion matrix as above)\n")
			default:
				shown[s.Confusion] = true
				writeConfusion(bw, s.Confusion)
			}
		}
		bw.printf("\n")
	}
	bw.printf("%d passed, %d failed", r.Passed, r.Failed)
	if r.Errors > 0 {
		bw.printf(", %d with input errors", r.Errors)
	}
	bw.printf("\n")
	return bw.err
}

// measured formats a measured value short enough for a column; the reason
// of an undefined value goes on its own line.
func measured(v Value) string {
	if !v.Defined {
		return "undefined"
	}
	return FormatNumber(v.V)
}

func scenarioTitle(s *ScenarioResult) string {
	t := "Scenario: " + s.Name
	if s.Rule != "" {
		t = "Rule: " + s.Rule + " / " + t
	}
	return t
}

func location(path string, s *Scenario) string {
	if s.RowLine != 0 {
		return fmt.Sprintf("%s:%d, example line %d", path, s.Line, s.RowLine)
	}
	return fmt.Sprintf("%s:%d", path, s.Line)
}

func writeConfusion(w *errWriter, m *Confusion) {
	if len(m.Classes) > maxMatrixClasses {
		w.printf("\n    confusion matrix omitted: %d classes (see --json)\n", len(m.Classes))
		return
	}
	w.printf("\n    confusion matrix (rows: label, columns: prediction; %d items)\n", m.Total())
	var buf bytes.Buffer
	tw := tabwriter.NewWriter(&buf, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "\t")
	for _, c := range m.Classes {
		fmt.Fprintf(tw, "%s\t", c)
	}
	fmt.Fprintln(tw)
	for i, c := range m.Classes {
		fmt.Fprintf(tw, "%s\t", c)
		for j := range m.Classes {
			fmt.Fprintf(tw, "%d\t", m.Counts[i][j])
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
	for _, l := range strings.SplitAfter(buf.String(), "\n") {
		if l != "" {
			w.printf("    %s\n", strings.TrimRight(l, " \n"))
		}
	}
}

type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}

func (e *errWriter) printf(format string, args ...any) { fmt.Fprintf(e, format, args...) }

// jsonValue is a metric value in the JSON report: a number, or null with
// the reason it is undefined.
type jsonValue struct {
	Value     *float64 `json:"value"`
	Undefined string   `json:"undefined,omitempty"`
}

func toJSONValue(v Value) jsonValue {
	if !v.Defined {
		r := v.Reason
		if r == "" {
			r = "undefined"
		}
		return jsonValue{Undefined: r}
	}
	x := v.V
	return jsonValue{Value: &x}
}

// WriteJSON writes the report as one JSON document, for scripts.
func (r *Report) WriteJSON(w io.Writer) error {
	type jstep struct {
		StepResult
		Measured   *jsonValue `json:"measured,omitempty"`
		Comparator Comparator `json:"comparator,omitempty"`
	}
	type jconf struct {
		Classes []string  `json:"classes"`
		Counts  [][]int64 `json:"counts"`
	}
	type jscen struct {
		*ScenarioResult
		Steps      []jstep              `json:"steps"`
		Confusion  *jconf               `json:"confusion,omitempty"`
		Metrics    map[string]jsonValue `json:"metrics"`
		DurationMS int64                `json:"duration_ms"`
	}
	type jfeat struct {
		Path      string  `json:"path"`
		Feature   string  `json:"feature"`
		Scenarios []jscen `json:"scenarios"`
	}
	out := struct {
		Features []jfeat `json:"features"`
		Passed   int     `json:"passed"`
		Failed   int     `json:"failed"`
		Errors   int     `json:"errors"`
	}{Features: []jfeat{}, Passed: r.Passed, Failed: r.Failed, Errors: r.Errors}
	for _, f := range r.Features {
		jf := jfeat{Path: f.Path, Feature: f.Feature, Scenarios: []jscen{}}
		for _, s := range f.Scenarios {
			js := jscen{ScenarioResult: s, Steps: []jstep{}, Metrics: map[string]jsonValue{}, DurationMS: s.Duration.Milliseconds()}
			for _, st := range s.Steps {
				j := jstep{StepResult: st}
				if st.Measured != nil {
					v := toJSONValue(*st.Measured)
					j.Measured = &v
				}
				if st.Check != nil {
					j.Comparator = st.Check.Comparator
				}
				js.Steps = append(js.Steps, j)
			}
			if s.Confusion != nil {
				js.Confusion = &jconf{Classes: s.Confusion.Classes, Counts: s.Confusion.Counts}
			}
			for k, v := range s.Metrics {
				js.Metrics[k] = toJSONValue(v)
			}
			jf.Scenarios = append(jf.Scenarios, js)
		}
		out.Features = append(out.Features, jf)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// JUnit XML, in the shape Jenkins, GitLab, GitHub Actions reporters and
// Azure DevOps read: testsuites > testsuite (one per feature file) >
// testcase (one per scenario) > failure | error | skipped.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name      string      `xml:"name,attr"`
	Tests     int         `xml:"tests,attr"`
	Failures  int         `xml:"failures,attr"`
	Errors    int         `xml:"errors,attr"`
	Skipped   int         `xml:"skipped,attr"`
	Time      string      `xml:"time,attr"`
	Timestamp string      `xml:"timestamp,attr,omitempty"`
	File      string      `xml:"file,attr"`
	Cases     []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	File      string        `xml:"file,attr"`
	Line      int           `xml:"line,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitProblem `xml:"failure,omitempty"`
	Error     *junitProblem `xml:"error,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

func seconds(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', 3, 64) }

// WriteJUnit writes the report as JUnit XML.
func (r *Report) WriteJUnit(w io.Writer) error {
	out := junitSuites{Name: "trellis spec check", Time: seconds(r.Duration)}
	for _, f := range r.Features {
		name := f.Feature
		if name == "" {
			name = f.Path
		}
		su := junitSuite{Name: name, File: f.Path, Time: seconds(f.Duration)}
		for _, s := range f.Scenarios {
			title := s.Name
			if s.RowLine != 0 {
				title = fmt.Sprintf("%s (example line %d)", s.Name, s.RowLine)
			}
			if s.Rule != "" {
				title = s.Rule + " / " + title
			}
			tc := junitCase{Name: title, Classname: name, File: f.Path, Line: s.Line, Time: seconds(s.Duration)}
			var lines, problems []string
			for _, st := range s.Steps {
				l := fmt.Sprintf("%s %s %s", marks[st.Outcome], st.Keyword, st.Text)
				if st.Measured != nil {
					l += fmt.Sprintf("  (measured %s, threshold %s %s)", st.Measured, st.Check.Comparator, FormatNumber(*st.Threshold))
				}
				lines = append(lines, l)
				if st.Outcome == Failed || st.Outcome == Errored {
					msg := st.Message
					if msg == "" && st.Measured != nil {
						msg = st.Measured.String()
					}
					problems = append(problems, fmt.Sprintf("line %d: %s %s: %s", st.Line, st.Keyword, st.Text, msg))
				}
			}
			detail := strings.Join(lines, "\n")
			su.Tests++
			out.Tests++
			switch s.Outcome {
			case Failed:
				su.Failures++
				out.Failures++
				tc.Failure = &junitProblem{Message: strings.Join(problems, "; "), Type: "goal not met", Text: detail}
			case Errored:
				su.Errors++
				out.Errors++
				tc.Error = &junitProblem{Message: strings.Join(problems, "; "), Type: "input error", Text: detail}
			default:
				tc.SystemOut = detail
			}
			su.Cases = append(su.Cases, tc)
		}
		out.Suites = append(out.Suites, su)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(out); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// MetricsToLog returns what --report-to-server logs to a run: every
// defined metric the scenarios computed or read, by name, plus
// spec.passed, spec.failed and spec.errors, and for each passed or failed
// scenario spec.scenario.<name> = 1 (passed) or 0 (failed), so a chart
// shows which scenarios flipped between iterations. Undefined metrics are left out,
// as MLflow metrics are numbers. Two scenarios that measured the same
// metric differently (they scored different files) cannot share one run:
// that is an error naming the metric.
func (r *Report) MetricsToLog() (map[string]float64, error) {
	out := map[string]float64{}
	from := map[string]string{}
	for _, f := range r.Features {
		for _, s := range f.Scenarios {
			for k, v := range s.Metrics {
				if !v.Defined {
					continue
				}
				if old, ok := out[k]; ok && old != v.V {
					return nil, fmt.Errorf("metric %q is %s in scenario %q but %s in %q: report one set of inputs per run", k, FormatNumber(old), from[k], FormatNumber(v.V), s.Name)
				}
				out[k], from[k] = v.V, s.Name
			}
		}
	}
	seen := map[string]bool{}
	for _, f := range r.Features {
		for _, s := range f.Scenarios {
			if s.Outcome != Passed && s.Outcome != Failed {
				continue // errored and skipped scenarios have no result; spec.errors counts the first
			}
			k := "spec.scenario." + metricSlug(s.Name)
			if seen[k] {
				line := s.Line
				if s.RowLine != 0 {
					line = s.RowLine
				}
				k += fmt.Sprintf(" %s:%d", metricSlug(strings.TrimSuffix(filepath.Base(f.Path), ".feature")), line)
			}
			seen[k] = true
			out[k] = 0
			if s.Outcome == Passed {
				out[k] = 1
			}
		}
	}
	out["spec.passed"] = float64(r.Passed)
	out["spec.failed"] = float64(r.Failed)
	out["spec.errors"] = float64(r.Errors)
	return out, nil
}

// metricSlug makes a scenario name a valid MLflow metric key: letters,
// digits, _ - . space and : stay, anything else becomes _, and the result
// is cut to 200 bytes, inside MLflow's 250 with the prefix.
func metricSlug(name string) string {
	b := []byte(strings.TrimSpace(name))
	for i, c := range b {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("_-. :", c) >= 0
		if !ok {
			b[i] = '_'
		}
	}
	if len(b) > 200 {
		b = b[:200]
	}
	if len(b) == 0 {
		return "_"
	}
	return string(b)
}
