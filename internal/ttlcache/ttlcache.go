// Package ttlcache remembers store lookups for a bounded time. It serves
// the per-request credential and role lookups (internal/auth, internal/work),
// where two properties matter more than hit rates: an entry is never used
// after its TTL, so other processes' changes apply within it, and an
// invalidation cannot be undone by a lookup that read the store before it.
package ttlcache

import (
	"context"
	"sync"
	"time"
)

// Cache maps keys to values read at most TTL ago. The zero value is not
// usable; call New.
type Cache[K comparable, V any] struct {
	ttl time.Duration
	max int

	mu  sync.Mutex
	gen uint64 // counts invalidations
	m   map[K]entry[V]
}

type entry[V any] struct {
	value   V
	fetched time.Time
}

// New returns a cache whose entries live for ttl; when it holds max entries
// it is emptied rather than grown (the entries are cheap to read again).
func New[K comparable, V any](ttl time.Duration, max int) *Cache[K, V] {
	return &Cache[K, V]{ttl: ttl, max: max, m: map[K]entry[V]{}}
}

// Get returns the value of key: the remembered one when it was read less
// than the TTL before now, else load's, which is remembered when keep
// reports it should be (nil keep: always). An entry from after now (a clock
// set back, as tests and the demo seed do) counts as stale. Values are
// returned by copy; a V holding pointers shares what they point to.
func (c *Cache[K, V]) Get(ctx context.Context, key K, now time.Time, load func(context.Context) (V, error), keep func(V) bool) (V, error) {
	c.mu.Lock()
	e, ok := c.m[key]
	gen := c.gen
	c.mu.Unlock()
	if age := now.Sub(e.fetched); ok && age >= 0 && age < c.ttl {
		return e.value, nil
	}
	v, err := load(ctx)
	if err != nil || (keep != nil && !keep(v)) {
		return v, err
	}
	c.mu.Lock()
	// An invalidation that ran while load read the store may have dropped
	// what load just read; keeping it would undo that invalidation.
	if c.gen == gen {
		if len(c.m) >= c.max {
			clear(c.m)
		}
		c.m[key] = entry[V]{value: v, fetched: now}
	}
	c.mu.Unlock()
	return v, nil
}

// Update changes the value remembered for key, if any, under the cache's
// lock, keeping its age.
func (c *Cache[K, V]) Update(key K, update func(*V)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.m[key]; ok {
		update(&e.value)
		c.m[key] = e
	}
}

// DeleteFunc forgets every entry drop reports, and makes lookups already
// under way not remember what they read.
func (c *Cache[K, V]) DeleteFunc(drop func(K, V) bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	for k, e := range c.m {
		if drop(k, e.value) {
			delete(c.m, k)
		}
	}
}
