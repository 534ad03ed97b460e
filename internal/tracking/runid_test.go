package tracking

import (
	"regexp"
	"testing"
	"time"
)

// TestNewRunID checks the id's form (MLflow's 32 lowercase hex digits),
// that ids made in later milliseconds sort after earlier ones, and that
// ids made in the same millisecond differ.
func TestNewRunID(t *testing.T) {
	hex32 := regexp.MustCompile(`^[0-9a-f]{32}$`)
	seen := map[string]bool{}
	prev := ""
	for i := range 2000 {
		id := NewRunID()
		if !hex32.MatchString(id) {
			t.Fatalf("id %q is not 32 lowercase hex digits", id)
		}
		if seen[id] {
			t.Fatalf("id %q made twice", id)
		}
		seen[id] = true
		if i%500 == 0 {
			time.Sleep(2 * time.Millisecond)
			if prev != "" && id[:12] <= prev[:12] {
				t.Fatalf("id %q made after %q does not sort after it", id, prev)
			}
			prev = id
		}
	}
}
