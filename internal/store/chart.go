package store

import (
	"context"
	"database/sql"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/trellisml/trellis/internal/tracking"
)

// Metric rollups: tracking_metric_blocks holds, for every series, the
// non-NaN points of each aligned block of 2^level steps (levels 4, 8, 12
// and 16: 16, 256, 4,096 and 65,536 steps) reduced to their first and last
// step, smallest and largest value, sum of the finite values and count.
// These combine exactly, so a chart bucket made of whole blocks is read
// from a few block rows instead of every point: the whole view of a
// 1,000,000-point series reads about 4,000 rows. Points are only ever
// appended (a series goes away with its run, and its blocks by the same
// cascade), so LogBatch keeps the blocks exact with one upsert per touched
// block and level, in the transaction that inserts the points.

// blockLevels are the block sizes as powers of two, coarsest first.
var blockLevels = [...]uint{16, 12, 8, 4}

// finestBlock is the smallest block width: a chart whose buckets are
// narrower reads the points.
const finestBlock = 1 << 4

// blockKey names one block of a series.
type blockKey struct {
	series int64
	level  uint
	block  int64
}

// blockAgg is what a block (or a chart bucket) holds of its non-NaN points.
type blockAgg struct {
	minStep, maxStep int64
	min, max, sum    float64 // sum of the finite values only
	count            int64
}

func (a *blockAgg) addPoint(step int64, v float64) {
	if a.count == 0 {
		*a = blockAgg{minStep: step, maxStep: step, min: v, max: v}
	} else {
		a.minStep, a.maxStep = min(a.minStep, step), max(a.maxStep, step)
		a.min, a.max = min(a.min, v), max(a.max, v)
	}
	if !math.IsInf(v, 0) {
		a.sum += v
	}
	a.count++
}

func (a *blockAgg) merge(b blockAgg) {
	if b.count == 0 {
		return
	}
	if a.count == 0 {
		*a = b
		return
	}
	a.minStep, a.maxStep = min(a.minStep, b.minStep), max(a.maxStep, b.maxStep)
	a.min, a.max = min(a.min, b.min), max(a.max, b.max)
	a.sum += b.sum
	a.count += b.count
}

// mean is the average of the points: an infinity among them decides it
// (both signs: NaN), as it would in a plain sum.
func (a *blockAgg) mean() float64 {
	switch {
	case math.IsInf(a.min, -1) && math.IsInf(a.max, 1):
		return math.NaN()
	case math.IsInf(a.max, 1):
		return math.Inf(1)
	case math.IsInf(a.min, -1):
		return math.Inf(-1)
	}
	return a.sum / float64(a.count)
}

// blockRollup reduces points (series ids parallel to ms) to their blocks at
// every level, sorted by key so that concurrent batches upsert shared rows
// in the same order.
func blockRollup(series []int64, ms []tracking.Metric) ([]blockKey, []blockAgg) {
	index := make(map[blockKey]int, len(ms)/8+8)
	var keys []blockKey
	var aggs []blockAgg
	// Points mostly come in step order: the block of the previous point at
	// each level usually takes the next one too, without a map lookup.
	var last [len(blockLevels)]int
	for i := range last {
		last[i] = -1
	}
	for i, m := range ms {
		if math.IsNaN(m.Value) {
			continue
		}
		for li, level := range blockLevels {
			k := blockKey{series[i], level, m.Step >> level}
			j := last[li]
			if j < 0 || keys[j] != k {
				var ok bool
				if j, ok = index[k]; !ok {
					j = len(keys)
					index[k] = j
					keys = append(keys, k)
					aggs = append(aggs, blockAgg{})
				}
				last[li] = j
			}
			aggs[j].addPoint(m.Step, m.Value)
		}
	}
	order := make([]int, len(keys))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int {
		x, y := keys[a], keys[b]
		switch {
		case x.series != y.series:
			return cmpInt(x.series, y.series)
		case x.level != y.level:
			return cmpInt(int64(x.level), int64(y.level))
		}
		return cmpInt(x.block, y.block)
	})
	sk, sa := make([]blockKey, len(keys)), make([]blockAgg, len(keys))
	for i, j := range order {
		sk[i], sa[i] = keys[j], aggs[j]
	}
	return sk, sa
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// maxBlockRows bounds the rows of one SQLite block upsert.
const maxBlockRows = 128

// upsertBlocksSQLite folds a batch's blocks into the stored ones.
func upsertBlocksSQLite(ctx context.Context, tx *sql.Tx, keys []blockKey, aggs []blockAgg) error {
	args := make([]any, 0, 9*min(len(keys), maxBlockRows))
	for len(keys) > 0 {
		n := pow2Chunk(len(keys), maxBlockRows)
		args = args[:0]
		for i := range n {
			k, a := keys[i], aggs[i]
			args = append(args, k.series, int64(k.level), k.block, a.minStep, a.maxStep, a.min, a.max, a.sum, a.count)
		}
		keys, aggs = keys[n:], aggs[n:]
		query := `INSERT INTO tracking_metric_blocks AS k (series_id, level, block, min_step, max_step, min_value, max_value, finite_sum, points) VALUES ` +
			strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?, ?, ?, ?, ?), ", n), ", ") + `
			ON CONFLICT (series_id, level, block) DO UPDATE SET
			  min_step = MIN(k.min_step, excluded.min_step), max_step = MAX(k.max_step, excluded.max_step),
			  min_value = MIN(k.min_value, excluded.min_value), max_value = MAX(k.max_value, excluded.max_value),
			  finite_sum = k.finite_sum + excluded.finite_sum, points = k.points + excluded.points`
		if _, err := tx.ExecContext(ctx, query, args...); err != nil {
			return mapErr(err, "Metric rollup")
		}
	}
	return nil
}

// pgUpsertBlocks is upsertBlocksSQLite on PostgreSQL: one statement over
// arrays, whatever the number of blocks.
const pgUpsertBlocks = `INSERT INTO tracking_metric_blocks AS k (series_id, level, block, min_step, max_step, min_value, max_value, finite_sum, points)
	SELECT * FROM unnest($1::bigint[], $2::smallint[], $3::bigint[], $4::bigint[], $5::bigint[], $6::float8[], $7::float8[], $8::float8[], $9::bigint[])
	ON CONFLICT (series_id, level, block) DO UPDATE SET
	  min_step = LEAST(k.min_step, excluded.min_step), max_step = GREATEST(k.max_step, excluded.max_step),
	  min_value = LEAST(k.min_value, excluded.min_value), max_value = GREATEST(k.max_value, excluded.max_value),
	  finite_sum = k.finite_sum + excluded.finite_sum, points = k.points + excluded.points`

// pgBlockArgs are pgUpsertBlocks' arguments.
func pgBlockArgs(keys []blockKey, aggs []blockAgg) []any {
	n := len(keys)
	series, levels, blocks := make([]int64, n), make([]int16, n), make([]int64, n)
	minSteps, maxSteps, counts := make([]int64, n), make([]int64, n), make([]int64, n)
	mins, maxs, sums := make([]float64, n), make([]float64, n), make([]float64, n)
	for i, k := range keys {
		a := aggs[i]
		series[i], levels[i], blocks[i] = k.series, int16(k.level), k.block
		minSteps[i], maxSteps[i], counts[i] = a.minStep, a.maxStep, a.count
		mins[i], maxs[i], sums[i] = a.min, a.max, a.sum
	}
	return []any{series, levels, blocks, minSteps, maxSteps, mins, maxs, sums, counts}
}

// bucketPlan is how a chart request cuts steps lo..hi into buckets: bucket
// i spans the steps origin+i*width .. origin+(i+1)*width-1 (clipped to
// lo..hi). With level > 0, origin and width are multiples of the level's
// block width, so every block of that level or a finer one lies in one
// bucket; level 0 reads the points.
type bucketPlan struct {
	lo, hi, origin, width int64
	level                 uint
}

// planBuckets cuts lo..hi into at most n buckets, of at least the finest
// block's width when that does not make them fewer than asked: the level is
// the coarsest whose blocks are no wider than an equal cut's buckets, and
// the buckets are widened to whole blocks of it (at most n still).
func planBuckets(lo, hi int64, n int) bucketPlan {
	span := uint64(hi-lo) + 1
	width := int64((span + uint64(n) - 1) / uint64(n))
	p := bucketPlan{lo: lo, hi: hi, origin: lo, width: width}
	for _, level := range blockLevels {
		size := int64(1) << level
		if size > width {
			continue
		}
		p.level = level
		p.origin = lo >> level << level
		span = uint64(hi-p.origin) + 1
		w := int64((span + uint64(n) - 1) / uint64(n))
		p.width = (w + size - 1) >> level << level
		break
	}
	return p
}

// FindMetricBuckets aggregates a series into at most q.Buckets step ranges
// of equal width: from the rollup blocks when the buckets are at least the
// finest block wide, else from the points in one grouped scan.
func (db *DB) FindMetricBuckets(ctx context.Context, q tracking.BucketQuery) ([]tracking.Bucket, error) {
	return db.findMetricBuckets(ctx, q, true)
}

func (db *DB) findMetricBuckets(ctx context.Context, q tracking.BucketQuery, blocks bool) ([]tracking.Bucket, error) {
	// The series' last step is its latest point's; the first is the
	// smallest first step of its chunks, the first row of its key.
	var seriesID, lastStep int64
	var first sql.NullInt64
	err := db.read.QueryRowContext(ctx, `SELECT id, step, (SELECT MIN(first_step) FROM tracking_metric_chunks WHERE series_id = l.id)
		FROM tracking_latest_metrics l WHERE run_id = $1 AND key = $2`, q.RunID, q.Key).Scan(&seriesID, &lastStep, &first)
	if err == sql.ErrNoRows {
		return nil, nil
	}
	if err != nil {
		return nil, mapErr(err, "Metric")
	}
	if !first.Valid {
		return nil, nil
	}
	lo, hi := first.Int64, lastStep
	if q.StartStep != nil {
		lo = max(lo, *q.StartStep)
	}
	if q.EndStep != nil {
		hi = min(hi, *q.EndStep)
	}
	if hi < lo {
		return nil, nil
	}
	p := planBuckets(lo, hi, q.Buckets)
	if !blocks || p.level == 0 {
		return db.pointBuckets(ctx, seriesID, p)
	}
	return db.blockBuckets(ctx, seriesID, p, lo == first.Int64, hi == lastStep)
}

// pointBuckets aggregates the non-NaN points of each bucket, read from the
// chunks in history order: the path of zooms to fewer than 16 steps a
// bucket, and the reference the block path is tested against.
func (db *DB) pointBuckets(ctx context.Context, seriesID int64, p bucketPlan) ([]tracking.Bucket, error) {
	var out []tracking.Bucket
	var cur blockAgg
	curB := int64(-1)
	err := db.eachPoint(ctx, seriesID, p.lo, p.hi, nil, func(pt point) bool {
		if math.IsNaN(pt.v) {
			return true
		}
		if b := (pt.step - p.origin) / p.width; b != curB {
			if cur.count > 0 {
				out = append(out, cur.bucket())
			}
			cur, curB = blockAgg{}, b
		}
		cur.addPoint(pt.step, pt.v)
		return true
	})
	if err != nil {
		return nil, mapErr(err, "Metric")
	}
	if cur.count > 0 {
		out = append(out, cur.bucket())
	}
	return out, nil
}

func (a *blockAgg) bucket() tracking.Bucket {
	return tracking.Bucket{FirstStep: a.minStep, LastStep: a.maxStep, Min: a.min, Max: a.max, Mean: a.mean(), Count: a.count}
}

// stepRange is a part of a chart's steps read one way: blocks first..last
// of a level, or the points of steps first..last (level 0).
type stepRange struct {
	level       uint
	first, last int64
}

// coverSteps splits steps a..b, which lie within one block of level top,
// into the fewest aligned blocks of finer levels, and points where even the
// finest block does not fit (fewer than 16 steps at either end).
func coverSteps(a, b int64, top uint) []stepRange {
	var out []stepRange
	add := func(level uint, first, last int64) {
		if n := len(out); n > 0 && out[n-1].level == level && out[n-1].last+1 == first {
			out[n-1].last = last
			return
		}
		out = append(out, stepRange{level, first, last})
	}
	for x := a; x <= b; {
		taken := false
		for _, level := range blockLevels {
			size := int64(1) << level
			if level >= top || x&(size-1) != 0 || b-x < size-1 {
				continue
			}
			add(level, x>>level, x>>level)
			x += size
			taken = true
			break
		}
		if !taken {
			end := min(b, x|(finestBlock-1))
			add(0, x, end)
			x = end + 1
		}
	}
	return out
}

// blockBuckets combines each bucket from whole blocks of the plan's level,
// and, where a zoom's ends cut through a block, from finer blocks and at
// most 15 points at each end. Blocks at the series' own ends are whole
// even when they reach past them: no point lies beyond.
func (db *DB) blockBuckets(ctx context.Context, seriesID int64, p bucketPlan, fromFirst, toLast bool) ([]tracking.Bucket, error) {
	size := int64(1) << p.level
	firstBlock, lastBlock := p.lo>>p.level, p.hi>>p.level
	var edges []stepRange
	if !fromFirst && p.lo&(size-1) != 0 {
		firstBlock++
		edges = append(edges, coverSteps(p.lo, min(p.hi, firstBlock<<p.level-1), p.level)...)
	}
	if !toLast && (p.hi+1)&(size-1) != 0 && lastBlock >= firstBlock {
		lastBlock--
		edges = append(edges, coverSteps(max(p.lo, (lastBlock+1)<<p.level), p.hi, p.level)...)
	}
	parts := edges
	if firstBlock <= lastBlock {
		parts = append([]stepRange{{p.level, firstBlock, lastBlock}}, edges...)
	}
	n := (p.hi-p.origin)/p.width + 1
	acc := make([]blockAgg, n)
	args := []any{seriesID}
	var sel []string
	for _, r := range parts {
		if r.level == 0 {
			// A few edge steps: their points, from the chunks.
			err := db.eachPoint(ctx, seriesID, r.first, r.last, nil, func(pt point) bool {
				if !math.IsNaN(pt.v) {
					acc[(pt.step-p.origin)/p.width].addPoint(pt.step, pt.v)
				}
				return true
			})
			if err != nil {
				return nil, mapErr(err, "Metric")
			}
			continue
		}
		args = append(args, r.first, r.last)
		a, b := "$"+strconv.Itoa(len(args)-1), "$"+strconv.Itoa(len(args))
		sel = append(sel, `SELECT min_step, max_step, min_value, max_value, finite_sum, points
			FROM tracking_metric_blocks WHERE series_id = $1 AND level = `+strconv.Itoa(int(r.level))+` AND block >= `+a+` AND block <= `+b)
	}
	if len(sel) > 0 {
		err := db.eachRow(ctx, strings.Join(sel, " UNION ALL "), args, func(rows *sql.Rows) error {
			var a blockAgg
			if err := rows.Scan(&a.minStep, &a.maxStep, &a.min, &a.max, &a.sum, &a.count); err != nil {
				return err
			}
			acc[(a.minStep-p.origin)/p.width].merge(a)
			return nil
		})
		if err != nil {
			return nil, mapErr(err, "Metric")
		}
	}
	var out []tracking.Bucket
	for i := range acc {
		if acc[i].count > 0 {
			out = append(out, acc[i].bucket())
		}
	}
	return out, nil
}
