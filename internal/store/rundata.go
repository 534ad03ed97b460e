package store

import (
	"sync"

	"github.com/trellisml/trellis/internal/tracking"
)

// runDataBudget bounds the memory the run data cache holds, counted as the
// bytes of its keys and values plus a fixed cost per entry.
const runDataBudget = 32 << 20

// runDataCache keeps the params, tags and latest metrics of runs a search
// returned, each copy labelled with the run's data_version when it was
// read (migration 00017). Reading a page of 100 runs' data costs about
// 1,800 rows through the driver, two thirds of a search's store time; a
// run's data changes only while it logs, so most searches find every run
// of their page here. A copy is used only when the version a search reads
// with the run equals its label, and every write to the data raises the
// version in its own transaction, so a stale copy is never served, even
// when another process made the change.
//
// Memory is bounded by two generations: entries go into the current one,
// and when it holds half the budget it becomes the old one (the previous
// old one is dropped). A hit in the old generation moves the entry back to
// the current one, so what searches keep reading stays.
type runDataCache struct {
	mu       sync.Mutex
	cur, old map[string]*runData
	curBytes int
}

// runData is one run's cached data. Its slices are never modified; runs
// get copies.
type runData struct {
	version int64
	params  []tracking.Param
	tags    []tracking.Tag
	metrics []tracking.Metric
	bytes   int
}

// get fills r's data from the cache when it holds r's data at version.
func (c *runDataCache) get(r *tracking.Run, version int64) bool {
	c.mu.Lock()
	d, ok := c.cur[r.Info.ID]
	if !ok {
		if d, ok = c.old[r.Info.ID]; ok {
			delete(c.old, r.Info.ID)
			c.addLocked(r.Info.ID, d)
		}
	}
	c.mu.Unlock()
	if !ok || d.version != version {
		return false
	}
	r.Params = append([]tracking.Param(nil), d.params...)
	r.Tags = append([]tracking.Tag(nil), d.tags...)
	r.Metrics = append([]tracking.Metric(nil), d.metrics...)
	return true
}

// put remembers r's data as read at version (or later: a write committed
// between the run's query and its data's only makes the copy newer than
// its label, and any later search reads the newer version and misses).
func (c *runDataCache) put(r *tracking.Run, version int64) {
	d := &runData{version: version, bytes: 64 + len(r.Info.ID),
		params:  append([]tracking.Param(nil), r.Params...),
		tags:    append([]tracking.Tag(nil), r.Tags...),
		metrics: append([]tracking.Metric(nil), r.Metrics...)}
	for _, p := range r.Params {
		d.bytes += 32 + len(p.Key) + len(p.Value)
	}
	for _, t := range r.Tags {
		d.bytes += 32 + len(t.Key) + len(t.Value)
	}
	for _, m := range r.Metrics {
		d.bytes += 40 + len(m.Key)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if prev, ok := c.cur[r.Info.ID]; ok {
		if prev.version > version {
			return
		}
		c.curBytes -= prev.bytes
	}
	c.addLocked(r.Info.ID, d)
}

func (c *runDataCache) addLocked(id string, d *runData) {
	if c.cur == nil || c.curBytes+d.bytes > runDataBudget/2 {
		c.old, c.cur, c.curBytes = c.cur, make(map[string]*runData), 0
	}
	c.cur[id] = d
	c.curBytes += d.bytes
}
