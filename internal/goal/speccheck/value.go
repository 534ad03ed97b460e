package speccheck

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/trellisml/trellis/internal/trellis"
)

// Comparator is how a measured value is compared with a threshold.
type Comparator string

// The comparators, spelled as they are in goals and in spec steps.
const (
	AtLeast  Comparator = "at least"
	AtMost   Comparator = "at most"
	MoreThan Comparator = "more than"
	LessThan Comparator = "less than"
	Exactly  Comparator = "exactly"
)

// Comparators lists every comparator, in the order the docs show them.
var Comparators = []Comparator{AtLeast, AtMost, MoreThan, LessThan, Exactly}

// ParseComparator returns the comparator spelled s (case-insensitive).
func ParseComparator(s string) (Comparator, error) {
	c := Comparator(strings.ToLower(strings.Join(strings.Fields(s), " ")))
	for _, k := range Comparators {
		if c == k {
			return c, nil
		}
	}
	return "", trellis.Invalid("comparator", "comparator must be one of at least, at most, more than, less than, exactly; got %q", s)
}

// exactTolerance absorbs float noise in "exactly": 0.1+0.2 is exactly 0.3
// to a reader, and metric values are ratios of counts printed to 4 digits.
const exactTolerance = 1e-9

// Holds reports whether v compares to threshold as c requires.
func (c Comparator) Holds(v, threshold float64) bool {
	switch c {
	case AtLeast:
		return v >= threshold
	case AtMost:
		return v <= threshold
	case MoreThan:
		return v > threshold
	case LessThan:
		return v < threshold
	case Exactly:
		return math.Abs(v-threshold) <= exactTolerance*math.Max(1, math.Abs(threshold))
	}
	return false
}

// Better reports whether a is a better value than b for a goal using c: for
// at-least and more-than goals higher is better, for at-most and less-than
// lower, and for exactly the one closer to threshold.
func (c Comparator) Better(a, b, threshold float64) bool {
	switch c {
	case AtLeast, MoreThan:
		return a > b
	case AtMost, LessThan:
		return a < b
	}
	return math.Abs(a-threshold) < math.Abs(b-threshold)
}

// Value is a measured metric value. A metric whose denominator is zero is
// undefined: Defined is false and Reason says why, so that a check on it
// fails with the word "undefined" rather than passing or failing on a 0.
type Value struct {
	V       float64
	Defined bool
	Reason  string // why it is undefined
}

// Defined returns a defined value.
func Defined(v float64) Value { return Value{V: v, Defined: true} }

// Undefined returns an undefined value with its reason.
func Undefined(format string, args ...any) Value {
	return Value{Reason: fmt.Sprintf(format, args...)}
}

// String formats the value for reports: 4 significant decimals, integers
// without decimals, "undefined" with its reason.
func (v Value) String() string {
	if !v.Defined {
		if v.Reason == "" {
			return "undefined"
		}
		return "undefined (" + v.Reason + ")"
	}
	return FormatNumber(v.V)
}

// FormatNumber formats n compactly: integers as integers, others with up to
// 4 decimals.
func FormatNumber(n float64) string {
	if n == math.Trunc(n) && math.Abs(n) < 1e15 {
		return strconv.FormatFloat(n, 'f', -1, 64)
	}
	if math.Abs(n) < 0.0001 {
		return strconv.FormatFloat(n, 'g', 4, 64) // tiny errors stay visible
	}
	s := strconv.FormatFloat(n, 'f', 4, 64)
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}
