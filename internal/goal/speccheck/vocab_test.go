package speccheck

import (
	"strings"
	"testing"
)

func TestBindStep(t *testing.T) {
	cases := []struct {
		text   string
		kind   StepKind
		arg    string
		metric string
		class  string
		cmp    Comparator
		th     float64
	}{
		{`labels from "data/labels.csv"`, StepLabels, "data/labels.csv", "", "", "", 0},
		{`predictions from "p.jsonl"`, StepPredictions, "p.jsonl", "", "", "", 0},
		{`the id column is "uid"`, StepIDColumn, "uid", "", "", "", 0},
		{`the label column is "y"`, StepLabelColumn, "y", "", "", "", 0},
		{`the prediction column is "y_hat"`, StepPredictionColumn, "y_hat", "", "", "", 0},
		{`the run "abc123"`, StepRun, "abc123", "", "", "", 0},
		{`the latest run of item "ML-7"`, StepLatestRun, "ML-7", "", "", "", 0},
		{`the predictions are scored as classification`, StepScore, "", "", "", "", 0},
		{`the predictions are scored as regression`, StepScore, "", "", "", "", 0},
		{`accuracy should be at least 80%`, StepCheck, "", "accuracy", "", AtLeast, 0.8},
		{`accuracy should be exactly 1`, StepCheck, "", "accuracy", "", Exactly, 1},
		{`precision for class "spam" should be more than 0.9`, StepCheck, "", "precision", "spam", MoreThan, 0.9},
		{`recall for class "ham" should be less than 99.5%`, StepCheck, "", "recall", "ham", LessThan, 0.995},
		{`f1 for class "a b" should be at most .5`, StepCheck, "", "f1", "a b", AtMost, 0.5},
		{`macro f1 should be at least 0.75`, StepCheck, "", "macro_f1", "", AtLeast, 0.75},
		{`macro precision should be at least 0.75`, StepCheck, "", "macro_precision", "", AtLeast, 0.75},
		{`macro recall should be at least 0.75`, StepCheck, "", "macro_recall", "", AtLeast, 0.75},
		{`the number of false positives for class "spam" should be at most 3`, StepCheck, "", "fp", "spam", AtMost, 3},
		{`the number of false negatives for class "spam" should be less than 3`, StepCheck, "", "fn", "spam", LessThan, 3},
		{`the number of true positives for class "spam" should be more than 10`, StepCheck, "", "tp", "spam", MoreThan, 10},
		{`at least 5 items should be predicted as "spam"`, StepCheck, "", "predicted", "spam", AtLeast, 5},
		{`at most 1 item should be predicted as "spam"`, StepCheck, "", "predicted", "spam", AtMost, 1},
		{`exactly 0 items should be predicted as "x"`, StepCheck, "", "predicted", "x", Exactly, 0},
		{`mean absolute error should be at most 1.5e3`, StepCheck, "", "mae", "", AtMost, 1500},
		{`root mean squared error should be less than 2`, StepCheck, "", "rmse", "", LessThan, 2},
		{`r2 should be at least -0.5`, StepCheck, "", "r2", "", AtLeast, -0.5},
		{`metric "val_loss" should be at most 0.3`, StepCheck, "", "val_loss", "", AtMost, 0.3},
		{`Accuracy   should be AT LEAST 80%`, StepCheck, "", "accuracy", "", AtLeast, 0.8},
	}
	for _, c := range cases {
		st, err := BindStep(c.text)
		if err != nil {
			t.Errorf("BindStep(%q): %v", c.text, err)
			continue
		}
		if st.Kind != c.kind || st.Arg != c.arg {
			t.Errorf("BindStep(%q) = kind %d arg %q, want %d %q", c.text, st.Kind, st.Arg, c.kind, c.arg)
		}
		if c.kind != StepCheck {
			continue
		}
		ck := st.Check
		if ck.Metric != c.metric || ck.Class != c.class || ck.Comparator != c.cmp || !near(ck.Threshold, c.th) {
			t.Errorf("BindStep(%q) = %+v, want %s %s %s %v", c.text, *ck, c.metric, c.class, c.cmp, c.th)
		}
	}
}

// Every comparator works in every "should be" step.
func TestEveryComparatorInEveryShouldBeStep(t *testing.T) {
	n := 0
	for _, tmpl := range Vocabulary() {
		if !strings.Contains(tmpl, " should be ") || strings.Contains(tmpl, " items should be ") {
			continue
		}
		for _, c := range Comparators {
			text := strings.Replace(tmpl, "at least", string(c), 1)
			text = strings.Replace(text, "at most", string(c), 1)
			text = strings.NewReplacer(`"C"`, `"x"`, `"NAME"`, `"m"`, " N", " 0.5").Replace(text)
			st, err := BindStep(text)
			if err != nil {
				t.Errorf("BindStep(%q): %v", text, err)
				continue
			}
			if st.Check == nil || st.Check.Comparator != c {
				t.Errorf("BindStep(%q): comparator not %q", text, c)
			}
			n++
		}
	}
	for _, c := range Comparators {
		st, err := BindStep(string(c) + ` 3 items should be predicted as "x"`)
		if err != nil || st.Check.Comparator != c {
			t.Errorf("items step with %q: %v", c, err)
		}
	}
	if n < 14*len(Comparators) {
		t.Fatalf("only %d should-be forms checked; the vocabulary shrank?", n)
	}
}

func TestBindStepErrors(t *testing.T) {
	cases := []struct{ text, want string }{
		{`recal for class "spam" should be at least 0.9`, `closest known steps: recall for class "C" should be at least N`},
		{`accuracy should be at leest 0.8`, `closest known steps: accuracy should be at least N`},
		{`accuracy should be at least high`, `closest known steps: accuracy should be at least N`},
		{`the predictions are scored as clustering`, `the predictions are scored as classification`},
		{`labels from ""`, `malformed step`},
		{`accuracy should be at least 1e999`, `not a finite number`},
		{`at least 50% items should be predicted as "x"`, `cannot be a percentage`},
	}
	for _, c := range cases {
		_, err := BindStep(c.text)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("BindStep(%q) = %v, want error containing %q", c.text, err, c.want)
		}
	}
}

func TestEditDistance(t *testing.T) {
	for _, c := range []struct {
		a, b string
		d    int
	}{{"", "", 0}, {"abc", "", 3}, {"kitten", "sitting", 3}, {"recal", "recall", 1}, {"ü", "u", 1}} {
		if got := editDistance(c.a, c.b); got != c.d {
			t.Errorf("editDistance(%q, %q) = %d, want %d", c.a, c.b, got, c.d)
		}
	}
}
