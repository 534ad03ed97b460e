package speccheck

import "testing"

func TestComparator(t *testing.T) {
	cases := []struct {
		c     Comparator
		v, th float64
		want  bool
	}{
		{AtLeast, 0.8, 0.8, true}, {AtLeast, 0.79, 0.8, false},
		{AtMost, 0.8, 0.8, true}, {AtMost, 0.81, 0.8, false},
		{MoreThan, 0.8, 0.8, false}, {MoreThan, 0.81, 0.8, true},
		{LessThan, 0.8, 0.8, false}, {LessThan, 0.79, 0.8, true},
		{Exactly, 0.1 + 0.2, 0.3, true}, {Exactly, 0.31, 0.3, false},
	}
	for _, c := range cases {
		if got := c.c.Holds(c.v, c.th); got != c.want {
			t.Errorf("%v %s %v = %v, want %v", c.v, c.c, c.th, got, c.want)
		}
	}
	if _, err := ParseComparator("at  LEAST"); err != nil {
		t.Error(err)
	}
	if _, err := ParseComparator("around"); err == nil {
		t.Error("ParseComparator(around) = nil error")
	}
}
