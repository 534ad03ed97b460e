package ttlcache

import (
	"context"
	"testing"
	"time"
)

func TestCache(t *testing.T) {
	ctx := context.Background()
	c := New[string, int](5*time.Second, 3)
	t0 := time.Now()
	loads := 0
	load := func(v int) func(context.Context) (int, error) {
		return func(context.Context) (int, error) { loads++; return v, nil }
	}
	get := func(key string, at time.Duration, v int) int {
		t.Helper()
		got, err := c.Get(ctx, key, t0.Add(at), load(v), func(v int) bool { return v >= 0 })
		if err != nil {
			t.Fatal(err)
		}
		return got
	}

	if got := get("a", 0, 1); got != 1 || loads != 1 {
		t.Fatalf("first get = %d after %d loads", got, loads)
	}
	if got := get("a", 4*time.Second, 2); got != 1 || loads != 1 {
		t.Fatalf("within the TTL: %d after %d loads, want the remembered 1", got, loads)
	}
	if got := get("a", 5*time.Second, 2); got != 2 || loads != 2 {
		t.Fatalf("at the TTL: %d after %d loads, want a new read", got, loads)
	}
	if got := get("a", 4*time.Second, 3); got != 3 {
		t.Fatalf("an entry from the future (clock set back) = %d, want a new read", got)
	}
	get("n", 0, -1)
	if got := get("n", 0, 7); got != 7 {
		t.Fatalf("a value keep refused was remembered: %d", got)
	}

	c.Update("n", func(v *int) { *v = 8 })
	if got := get("n", time.Second, 9); got != 8 {
		t.Fatalf("after Update = %d, want 8", got)
	}
	c.DeleteFunc(func(k string, _ int) bool { return k == "n" })
	if got := get("n", time.Second, 9); got != 9 {
		t.Fatalf("after DeleteFunc = %d, want a new read", got)
	}

	// A lookup that read the store before an invalidation must not
	// remember what it read.
	racing := func(context.Context) (int, error) {
		c.DeleteFunc(func(string, int) bool { return true })
		return 10, nil
	}
	if got, _ := c.Get(ctx, "r", t0, racing, nil); got != 10 {
		t.Fatalf("racing load returned %d", got)
	}
	if got := get("r", 0, 11); got != 11 {
		t.Fatalf("a read racing an invalidation was remembered: %d", got)
	}

	for i, k := range []string{"x", "y", "z", "w"} {
		get(k, 0, i)
	}
	if n := len(c.m); n > 3 {
		t.Fatalf("%d entries, bound is 3", n)
	}
}
