package speccheck

import (
	"math"
	"strings"
	"testing"
)

// confusionOf builds a confusion matrix from "label>prediction" pairs
// repeated n times, so each test states its matrix by hand.
func confusionOf(tb testing.TB, cells map[string]int) *Confusion {
	tb.Helper()
	m := NewConfusion()
	for cell, n := range cells {
		l, p, ok := strings.Cut(cell, ">")
		if !ok {
			tb.Fatalf("bad cell %q", cell)
		}
		m.Class(l)
		m.Class(p)
		for range n {
			m.Add(l, p)
		}
	}
	m.Sort()
	return m
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-12 }

func wantValue(t *testing.T, name string, got Value, want float64) {
	t.Helper()
	if !got.Defined || !near(got.V, want) {
		t.Errorf("%s = %v, want %v", name, got, want)
	}
}

func wantUndefined(t *testing.T, name string, got Value, reason string) {
	t.Helper()
	if got.Defined {
		t.Errorf("%s = %v, want undefined", name, got)
		return
	}
	if !strings.Contains(got.String(), "undefined") || !strings.Contains(got.Reason, reason) {
		t.Errorf("%s = %q, want undefined because %q", name, got.String(), reason)
	}
}

// Three classes, hand-counted:
//
//	label\pred  cat dog bird
//	cat           5   2    1
//	dog           1   6    0
//	bird          0   2    3
//
// cat: TP 5, FP 1, FN 3; dog: TP 6, FP 4, FN 1; bird: TP 3, FP 1, FN 2.
func TestConfusionThreeClasses(t *testing.T) {
	m := confusionOf(t, map[string]int{
		"cat>cat": 5, "cat>dog": 2, "cat>bird": 1,
		"dog>cat": 1, "dog>dog": 6,
		"bird>dog": 2, "bird>bird": 3,
	})
	if got := strings.Join(m.Classes, ","); got != "bird,cat,dog" {
		t.Fatalf("classes = %s, want sorted bird,cat,dog", got)
	}
	if m.Total() != 20 {
		t.Fatalf("total = %d, want 20", m.Total())
	}
	counts := []struct {
		class      string
		tp, fp, fn int64
		predicted  int64
	}{
		{"cat", 5, 1, 3, 6},
		{"dog", 6, 4, 1, 10},
		{"bird", 3, 1, 2, 4},
		{"fish", 0, 0, 0, 0}, // never seen: every count is 0
	}
	for _, c := range counts {
		if m.TP(c.class) != c.tp || m.FP(c.class) != c.fp || m.FN(c.class) != c.fn || m.Predicted(c.class) != c.predicted {
			t.Errorf("%s: TP/FP/FN/predicted = %d/%d/%d/%d, want %d/%d/%d/%d", c.class,
				m.TP(c.class), m.FP(c.class), m.FN(c.class), m.Predicted(c.class), c.tp, c.fp, c.fn, c.predicted)
		}
	}
	wantValue(t, "accuracy", m.Accuracy(), 14.0/20)
	wantValue(t, "precision cat", m.Precision("cat"), 5.0/6)
	wantValue(t, "recall cat", m.Recall("cat"), 5.0/8)
	wantValue(t, "f1 cat", m.F1("cat"), 2*(5.0/6)*(5.0/8)/((5.0/6)+(5.0/8)))
	wantValue(t, "precision dog", m.Precision("dog"), 6.0/10)
	wantValue(t, "recall dog", m.Recall("dog"), 6.0/7)
	wantValue(t, "f1 dog", m.F1("dog"), 2*0.6*(6.0/7)/(0.6+6.0/7))
	wantValue(t, "precision bird", m.Precision("bird"), 3.0/4)
	wantValue(t, "recall bird", m.Recall("bird"), 3.0/5)
	f1bird := 2 * 0.75 * 0.6 / (0.75 + 0.6)
	wantValue(t, "f1 bird", m.F1("bird"), f1bird)
	f1cat := 2 * (5.0 / 6) * (5.0 / 8) / ((5.0 / 6) + (5.0 / 8))
	f1dog := 2 * 0.6 * (6.0 / 7) / (0.6 + 6.0/7)
	wantValue(t, "macro f1", m.Macro(m.F1), (f1cat+f1dog+f1bird)/3)
	wantValue(t, "macro precision", m.Macro(m.Precision), (5.0/6+0.6+0.75)/3)
	wantValue(t, "macro recall", m.Macro(m.Recall), (5.0/8+6.0/7+0.6)/3)
	wantUndefined(t, "precision fish", m.Precision("fish"), `no items predicted as "fish"`)
	wantUndefined(t, "recall fish", m.Recall("fish"), `no items labelled "fish"`)
}

func TestConfusionUndefined(t *testing.T) {
	// "spam" is labelled but never predicted: its precision has a zero
	// denominator; "eggs" is predicted but never labelled: its recall does.
	//
	//	label\pred  ham spam eggs
	//	ham           3    0    1
	//	spam          2    0    0
	m := confusionOf(t, map[string]int{"ham>ham": 3, "ham>eggs": 1, "spam>ham": 2})
	wantValue(t, "accuracy", m.Accuracy(), 3.0/6)
	wantUndefined(t, "precision spam", m.Precision("spam"), `no items predicted as "spam"`)
	wantValue(t, "recall spam", m.Recall("spam"), 0)
	wantUndefined(t, "f1 spam", m.F1("spam"), `no items predicted as "spam"`)
	wantValue(t, "precision eggs", m.Precision("eggs"), 0)
	wantUndefined(t, "recall eggs", m.Recall("eggs"), `no items labelled "eggs"`)
	wantUndefined(t, "f1 eggs", m.F1("eggs"), `no items labelled "eggs"`)
	// Macro averages over every class seen in labels or predictions, so one
	// undefined class makes the average undefined, naming the class.
	wantUndefined(t, "macro f1", m.Macro(m.F1), `"eggs"`)
	wantValue(t, "precision ham", m.Precision("ham"), 3.0/5)
	wantValue(t, "recall ham", m.Recall("ham"), 3.0/4)

	empty := NewConfusion()
	wantUndefined(t, "accuracy of nothing", empty.Accuracy(), "no items")
	wantUndefined(t, "macro f1 of nothing", empty.Macro(empty.F1), "no classes")
}

func TestF1ZeroWhenPrecisionAndRecallAreZero(t *testing.T) {
	// a is predicted (as b's) and labelled (predicted as b) but never right:
	// P = 0/1, R = 0/1, defined; their harmonic mean's limit is 0.
	m := confusionOf(t, map[string]int{"a>b": 1, "b>a": 1})
	wantValue(t, "precision a", m.Precision("a"), 0)
	wantValue(t, "recall a", m.Recall("a"), 0)
	wantValue(t, "f1 a", m.F1("a"), 0)
	wantValue(t, "accuracy", m.Accuracy(), 0)
}

func TestBinaryPerfect(t *testing.T) {
	m := confusionOf(t, map[string]int{"yes>yes": 4, "no>no": 6})
	for _, c := range []string{"yes", "no"} {
		wantValue(t, "precision "+c, m.Precision(c), 1)
		wantValue(t, "recall "+c, m.Recall(c), 1)
		wantValue(t, "f1 "+c, m.F1(c), 1)
	}
	wantValue(t, "accuracy", m.Accuracy(), 1)
	wantValue(t, "macro f1", m.Macro(m.F1), 1)
}

func TestRegression(t *testing.T) {
	// y = 1, 2, 3, 4; p = 1.5, 2, 2, 5: errors -0.5, 0, 1, -1.
	// MAE = 2.5/4; MSE = (0.25+0+1+1)/4 = 0.5625; mean y = 2.5,
	// SS_tot = 2.25+0.25+0.25+2.25 = 5; R2 = 1 - 2.25/5 = 0.55.
	var r Regression
	for _, yp := range [][2]float64{{1, 1.5}, {2, 2}, {3, 2}, {4, 5}} {
		r.Add(yp[0], yp[1])
	}
	wantValue(t, "mae", r.MAE(), 0.625)
	wantValue(t, "rmse", r.RMSE(), 0.75)
	wantValue(t, "r2", r.R2(), 0.55)

	var none Regression
	wantUndefined(t, "mae of nothing", none.MAE(), "no items")
	wantUndefined(t, "rmse of nothing", none.RMSE(), "no items")
	wantUndefined(t, "r2 of nothing", none.R2(), "no items")

	var flat Regression // constant labels: SS_tot = 0
	flat.Add(3, 2)
	flat.Add(3, 4)
	wantValue(t, "mae flat", flat.MAE(), 1)
	wantUndefined(t, "r2 flat", flat.R2(), "zero variance")
}

func TestValueString(t *testing.T) {
	for _, c := range []struct {
		v    Value
		want string
	}{
		{Defined(0.9), "0.9"},
		{Defined(2.0 / 3), "0.6667"},
		{Defined(12), "12"},
		{Defined(-0.00001), "-1e-05"},
		{Undefined("no items"), "undefined (no items)"},
		{Value{}, "undefined"},
	} {
		if got := c.v.String(); got != c.want {
			t.Errorf("%#v.String() = %q, want %q", c.v, got, c.want)
		}
	}
}
