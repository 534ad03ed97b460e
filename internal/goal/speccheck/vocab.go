package speccheck

import (
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// StepKind is what a bound step does.
type StepKind int

// The kinds of steps in the vocabulary.
const (
	StepLabels           StepKind = iota + 1 // Given labels from "PATH"
	StepPredictions                          // Given predictions from "PATH"
	StepIDColumn                             // Given the id column is "C"
	StepLabelColumn                          // Given the label column is "C"
	StepPredictionColumn                     // Given the prediction column is "C"
	StepRun                                  // Given the run "RUN_ID"
	StepLatestRun                            // Given the latest run of item "KEY"
	StepScore                                // When the predictions are scored as TASK
	StepCheck                                // Then ... should be CMP N
)

// Check is the assertion a Then step makes: Metric (with Class for
// per-class metrics) compared with Threshold.
type Check struct {
	Metric     string // accuracy, precision, recall, f1, macro_f1, macro_precision, macro_recall, tp, fp, fn, predicted, mae, rmse, r2, or a logged metric's name
	Class      string // for per-class metrics
	Logged     bool   // Metric is a name from `metric "NAME"`
	Comparator Comparator
	Threshold  float64
	Task       Task // the task whose scores hold the metric; "" for logged metrics
}

// Key is the metric's name as logged to a run: accuracy, f1.spam, mae.
func (c Check) Key() string {
	if c.Class != "" {
		return c.Metric + "." + c.Class
	}
	return c.Metric
}

// Step is one step of a scenario bound to the vocabulary.
type Step struct {
	Keyword string   `json:"keyword"`
	Text    string   `json:"text"`
	Line    int      `json:"line"`
	Kind    StepKind `json:"-"`
	Arg     string   `json:"-"` // path, column, run id or item key
	Task    Task     `json:"-"` // for StepScore
	Check   *Check   `json:"-"` // for StepCheck
}

// phrase is one step template of the vocabulary.
type phrase struct {
	template string // as documented; also what suggestions show
	re       *regexp.Regexp
	bind     func(m []string) (Step, error)
}

const (
	reQuoted = `"([^"]*)"`
	reCmp    = `(at least|at most|more than|less than|exactly)`
	reNum    = `([-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?%?)`
)

func mustPhrase(template, re string, bind func(m []string) (Step, error)) phrase {
	return phrase{template: template, re: regexp.MustCompile(`(?i)^` + re + `$`), bind: bind}
}

func argStep(kind StepKind) func(m []string) (Step, error) {
	return func(m []string) (Step, error) {
		if strings.TrimSpace(m[1]) == "" {
			return Step{}, fmt.Errorf("the quoted value must not be empty")
		}
		return Step{Kind: kind, Arg: m[1]}, nil
	}
}

// checkStep binds a Then step whose comparator and number are the last two
// groups of m.
func checkStep(metric string, task Task, classAt int) func(m []string) (Step, error) {
	return func(m []string) (Step, error) {
		c := &Check{Metric: strings.ToLower(metric), Task: task}
		if classAt > 0 {
			c.Class = m[classAt]
		}
		if err := bindThreshold(c, m[len(m)-2], m[len(m)-1]); err != nil {
			return Step{}, err
		}
		return Step{Kind: StepCheck, Check: c}, nil
	}
}

func bindThreshold(c *Check, cmp, num string) error {
	var err error
	if c.Comparator, err = ParseComparator(cmp); err != nil {
		return err
	}
	c.Threshold, err = ParseNumber(num)
	return err
}

// ParseNumber reads a threshold: a decimal number, or a percentage (80% is 0.8).
func ParseNumber(s string) (float64, error) {
	pct := strings.HasSuffix(s, "%")
	f, err := strconv.ParseFloat(strings.TrimSuffix(s, "%"), 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, fmt.Errorf("%q is not a finite number", s)
	}
	if pct {
		f /= 100
	}
	return f, nil
}

// vocabulary is every step Trellis understands, in documentation order.
var vocabulary = []phrase{
	mustPhrase(`labels from "PATH"`, `labels from `+reQuoted, argStep(StepLabels)),
	mustPhrase(`predictions from "PATH"`, `predictions from `+reQuoted, argStep(StepPredictions)),
	mustPhrase(`the id column is "C"`, `the id column is `+reQuoted, argStep(StepIDColumn)),
	mustPhrase(`the label column is "C"`, `the label column is `+reQuoted, argStep(StepLabelColumn)),
	mustPhrase(`the prediction column is "C"`, `the prediction column is `+reQuoted, argStep(StepPredictionColumn)),
	mustPhrase(`the run "RUN_ID"`, `the run `+reQuoted, argStep(StepRun)),
	mustPhrase(`the latest run of item "KEY"`, `the latest run of item `+reQuoted, argStep(StepLatestRun)),
	mustPhrase(`the predictions are scored as classification`, `the predictions are scored as classification`, func([]string) (Step, error) {
		return Step{Kind: StepScore, Task: TaskClassification}, nil
	}),
	mustPhrase(`the predictions are scored as regression`, `the predictions are scored as regression`, func([]string) (Step, error) {
		return Step{Kind: StepScore, Task: TaskRegression}, nil
	}),
	mustPhrase(`accuracy should be at least N`, `accuracy should be `+reCmp+` `+reNum, checkStep("accuracy", TaskClassification, 0)),
	mustPhrase(`precision for class "C" should be at least N`, `precision for class `+reQuoted+` should be `+reCmp+` `+reNum, checkStep("precision", TaskClassification, 1)),
	mustPhrase(`recall for class "C" should be at least N`, `recall for class `+reQuoted+` should be `+reCmp+` `+reNum, checkStep("recall", TaskClassification, 1)),
	mustPhrase(`f1 for class "C" should be at least N`, `f1 for class `+reQuoted+` should be `+reCmp+` `+reNum, checkStep("f1", TaskClassification, 1)),
	mustPhrase(`macro f1 should be at least N`, `macro f1 should be `+reCmp+` `+reNum, checkStep("macro_f1", TaskClassification, 0)),
	mustPhrase(`macro precision should be at least N`, `macro precision should be `+reCmp+` `+reNum, checkStep("macro_precision", TaskClassification, 0)),
	mustPhrase(`macro recall should be at least N`, `macro recall should be `+reCmp+` `+reNum, checkStep("macro_recall", TaskClassification, 0)),
	mustPhrase(`the number of true positives for class "C" should be at most N`, `the number of true positives for class `+reQuoted+` should be `+reCmp+` `+reNum, checkStep("tp", TaskClassification, 1)),
	mustPhrase(`the number of false positives for class "C" should be at most N`, `the number of false positives for class `+reQuoted+` should be `+reCmp+` `+reNum, checkStep("fp", TaskClassification, 1)),
	mustPhrase(`the number of false negatives for class "C" should be at most N`, `the number of false negatives for class `+reQuoted+` should be `+reCmp+` `+reNum, checkStep("fn", TaskClassification, 1)),
	mustPhrase(`at least N items should be predicted as "C"`, reCmp+` `+reNum+` items? should be predicted as `+reQuoted, func(m []string) (Step, error) {
		c := &Check{Metric: "predicted", Class: m[3], Task: TaskClassification}
		if err := bindThreshold(c, m[1], m[2]); err != nil {
			return Step{}, err
		}
		if strings.HasSuffix(m[2], "%") {
			return Step{}, fmt.Errorf("a number of items cannot be a percentage")
		}
		return Step{Kind: StepCheck, Check: c}, nil
	}),
	mustPhrase(`mean absolute error should be at most N`, `mean absolute error should be `+reCmp+` `+reNum, checkStep("mae", TaskRegression, 0)),
	mustPhrase(`root mean squared error should be at most N`, `root mean squared error should be `+reCmp+` `+reNum, checkStep("rmse", TaskRegression, 0)),
	mustPhrase(`r2 should be at least N`, `r2 should be `+reCmp+` `+reNum, checkStep("r2", TaskRegression, 0)),
	mustPhrase(`metric "NAME" should be at least N`, `metric `+reQuoted+` should be `+reCmp+` `+reNum, func(m []string) (Step, error) {
		if strings.TrimSpace(m[1]) == "" {
			return Step{}, fmt.Errorf("the metric name must not be empty")
		}
		c := &Check{Metric: m[1], Logged: true}
		if err := bindThreshold(c, m[2], m[3]); err != nil {
			return Step{}, err
		}
		return Step{Kind: StepCheck, Check: c}, nil
	}),
}

// Vocabulary returns the step templates Trellis understands, as documented
// (N is a number or a percentage, "..." a quoted string; every `should be`
// step takes any of the comparators).
func Vocabulary() []string {
	out := make([]string, len(vocabulary))
	for i, p := range vocabulary {
		out[i] = p.template
	}
	return out
}

// BindStep binds step text (without its keyword) to the vocabulary. The
// error of an unknown step names the closest known steps.
func BindStep(text string) (Step, error) {
	t := strings.Join(strings.Fields(text), " ")
	for _, p := range vocabulary {
		if m := p.re.FindStringSubmatch(t); m != nil {
			s, err := p.bind(m)
			if err != nil {
				return Step{}, fmt.Errorf("malformed step: %s: %v (expected: %s)", text, err, p.template)
			}
			s.Text = text
			return s, nil
		}
	}
	return Step{}, fmt.Errorf("unknown step: %s; closest known steps: %s", text, strings.Join(ClosestSteps(t, 3), " | "))
}

var (
	reQuotedAny = regexp.MustCompile(`"[^"]*"`)
	reNumAny    = regexp.MustCompile(`[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?%?`)
)

// shape reduces a step to its form: quoted strings and numbers become
// placeholders, so "recal for class "spam" should be at least 0.9" is
// compared with the templates by its words alone.
func shape(s string) string {
	s = strings.ToLower(strings.Join(strings.Fields(s), " "))
	s = reQuotedAny.ReplaceAllString(s, `""`)
	return reNumAny.ReplaceAllString(s, "n")
}

// ClosestSteps returns the n step templates nearest to text by edit
// distance over their shapes.
func ClosestSteps(text string, n int) []string {
	type cand struct {
		t string
		d int
	}
	want := shape(text)
	cs := make([]cand, len(vocabulary))
	for i, p := range vocabulary {
		cs[i] = cand{p.template, editDistance(want, shape(p.template))}
	}
	sort.SliceStable(cs, func(a, b int) bool { return cs[a].d < cs[b].d })
	out := make([]string, 0, n)
	for _, c := range cs[:min(n, len(cs))] {
		out = append(out, c.t)
	}
	return out
}

// editDistance is the Levenshtein distance between a and b, by runes.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	if len(ra) > 500 {
		ra = ra[:500] // a pasted paragraph need not cost quadratic time
	}
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
