package speccheck

import (
	"math"
	"sort"
)

// Confusion is a single-label classification confusion matrix over the
// classes seen in labels or predictions. Counts[i][j] is the number of items
// labelled Classes[i] and predicted Classes[j].
type Confusion struct {
	Classes []string
	Counts  [][]int64
	index   map[string]int
}

// NewConfusion returns an empty confusion matrix.
func NewConfusion() *Confusion { return &Confusion{index: map[string]int{}} }

// Class returns the index of class c, adding it if it is new.
func (m *Confusion) Class(c string) int {
	if i, ok := m.index[c]; ok {
		return i
	}
	i := len(m.Classes)
	m.index[c] = i
	m.Classes = append(m.Classes, c)
	for r := range m.Counts {
		m.Counts[r] = append(m.Counts[r], 0)
	}
	m.Counts = append(m.Counts, make([]int64, i+1))
	return i
}

// Add counts one item labelled label and predicted pred.
func (m *Confusion) Add(label, pred string) { m.AddIndex(m.Class(label), m.Class(pred)) }

// AddIndex counts one item by class indexes from Class.
func (m *Confusion) AddIndex(label, pred int) { m.Counts[label][pred]++ }

// Sort orders the classes by name so reports are stable whatever the row
// order of the input.
func (m *Confusion) Sort() {
	order := make([]int, len(m.Classes))
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(a, b int) bool { return m.Classes[order[a]] < m.Classes[order[b]] })
	classes := make([]string, len(order))
	counts := make([][]int64, len(order))
	for i, oi := range order {
		classes[i] = m.Classes[oi]
		counts[i] = make([]int64, len(order))
		for j, oj := range order {
			counts[i][j] = m.Counts[oi][oj]
		}
	}
	m.Classes, m.Counts = classes, counts
	for i, c := range classes {
		m.index[c] = i
	}
}

// Total is the number of items.
func (m *Confusion) Total() int64 {
	var n int64
	for _, row := range m.Counts {
		for _, c := range row {
			n += c
		}
	}
	return n
}

// has reports whether c is a class seen in labels or predictions.
func (m *Confusion) has(c string) (int, bool) {
	i, ok := m.index[c]
	return i, ok
}

// TP is the number of items of class c predicted as c.
func (m *Confusion) TP(c string) int64 {
	i, ok := m.has(c)
	if !ok {
		return 0
	}
	return m.Counts[i][i]
}

// FP is the number of items predicted as c but labelled otherwise.
func (m *Confusion) FP(c string) int64 { return m.Predicted(c) - m.TP(c) }

// FN is the number of items labelled c but predicted otherwise.
func (m *Confusion) FN(c string) int64 { return m.Labelled(c) - m.TP(c) }

// Predicted is the number of items predicted as c.
func (m *Confusion) Predicted(c string) int64 {
	j, ok := m.has(c)
	if !ok {
		return 0
	}
	var n int64
	for i := range m.Counts {
		n += m.Counts[i][j]
	}
	return n
}

// Labelled is the number of items labelled c.
func (m *Confusion) Labelled(c string) int64 {
	i, ok := m.has(c)
	if !ok {
		return 0
	}
	var n int64
	for _, v := range m.Counts[i] {
		n += v
	}
	return n
}

// Accuracy is the share of items predicted as labelled; undefined with no items.
func (m *Confusion) Accuracy() Value {
	n := m.Total()
	if n == 0 {
		return Undefined("no items")
	}
	var ok int64
	for i := range m.Counts {
		ok += m.Counts[i][i]
	}
	return Defined(float64(ok) / float64(n))
}

// Precision is TP / (TP + FP) for class c; undefined when nothing was
// predicted as c.
func (m *Confusion) Precision(c string) Value {
	tp, p := m.TP(c), m.Predicted(c)
	if p == 0 {
		return Undefined("no items predicted as %q", c)
	}
	return Defined(float64(tp) / float64(p))
}

// Recall is TP / (TP + FN) for class c; undefined when no item is labelled c.
func (m *Confusion) Recall(c string) Value {
	tp, l := m.TP(c), m.Labelled(c)
	if l == 0 {
		return Undefined("no items labelled %q", c)
	}
	return Defined(float64(tp) / float64(l))
}

// F1 is the harmonic mean of precision and recall for class c, undefined
// when either is. When both are 0 the harmonic mean's limit, 0, is used:
// 2TP / (2TP + FP + FN) equals the harmonic mean wherever that is defined.
func (m *Confusion) F1(c string) Value {
	if p := m.Precision(c); !p.Defined {
		return p
	}
	if r := m.Recall(c); !r.Defined {
		return r
	}
	tp, fp, fn := m.TP(c), m.FP(c), m.FN(c)
	return Defined(2 * float64(tp) / float64(2*tp+fp+fn))
}

// Macro is the unweighted mean of per-class metric f over every class seen
// in labels or predictions; undefined when there are no classes or when any
// class's value is undefined (the reason names the class).
func (m *Confusion) Macro(f func(string) Value) Value {
	if len(m.Classes) == 0 {
		return Undefined("no classes")
	}
	var sum float64
	for _, c := range m.Classes {
		v := f(c)
		if !v.Defined {
			return v
		}
		sum += v.V
	}
	return Defined(sum / float64(len(m.Classes)))
}

// Regression accumulates the sums that MAE, RMSE and R² need in one pass,
// so a million rows cost no memory beyond the running sums.
type Regression struct {
	N             int64
	sumAbs, sumSq float64
	meanY, m2Y    float64 // Welford's running mean and squared deviations of the labels
}

// Add accounts for one item with label y and prediction p.
func (r *Regression) Add(y, p float64) {
	r.N++
	d := y - p
	r.sumAbs += math.Abs(d)
	r.sumSq += d * d
	delta := y - r.meanY
	r.meanY += delta / float64(r.N)
	r.m2Y += delta * (y - r.meanY)
}

// MAE is the mean absolute error; undefined with no items.
func (r *Regression) MAE() Value {
	if r.N == 0 {
		return Undefined("no items")
	}
	return Defined(r.sumAbs / float64(r.N))
}

// RMSE is the root mean squared error; undefined with no items.
func (r *Regression) RMSE() Value {
	if r.N == 0 {
		return Undefined("no items")
	}
	return Defined(math.Sqrt(r.sumSq / float64(r.N)))
}

// R2 is the coefficient of determination 1 - SS_res / SS_tot; undefined
// when the labels have no variance (SS_tot = 0), including with no items.
func (r *Regression) R2() Value {
	if r.N == 0 {
		return Undefined("no items")
	}
	if r.m2Y == 0 {
		return Undefined("labels have zero variance")
	}
	return Defined(1 - r.sumSq/r.m2Y)
}
