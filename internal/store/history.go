package store

import (
	"cmp"
	"container/heap"
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"math"
	"slices"
	"strings"

	"github.com/trellisml/trellis/internal/tracking"
)

// Metric points are stored in chunks (tracking_metric_chunks, migration
// 00016): each row holds up to maxChunkPoints points of one series, sorted
// in history order (step, timestamp, non-NaN before NaN, value), encoded as
//
//	uvarint  count
//	count ×  varint  step - previous step       (zigzag; the first from 0)
//	         varint  timestamp - previous timestamp
//	         8 bytes IEEE 754 bits of the value, little endian (NaN canonical)
//
// A 1,000-point log-batch writes one row instead of 1,000 rows and index
// entries, and a history page decodes a few blobs instead of reading every
// point through database/sql. Chunks of a series may overlap (points logged
// out of order, or all at one step); readers merge them.

// maxChunkPoints bounds the points of one chunk: a history page starting
// in the middle of a chunk decodes at most this many points it skips.
const maxChunkPoints = 4096

// smallChunk is the size under which a series' last chunk takes in the
// points of the next batch (when they sort after its last point) instead of
// a new chunk being written: per-call logging of one point per request
// would otherwise make one chunk per point. Each such batch rewrites the
// last chunk, so it is kept small: with 256 the rewrite (blobs of up to
// 3 KB, on SQLite in overflow pages) made a batch of one point of each of
// 10 keys cost 1.1-1.3 ms of CPU against 0.56-0.77 ms with a row per point;
// with 64 (blobs under 800 bytes, in the b-tree page) 0.68-0.79 ms
// (BenchmarkLogBatchPerStep).
const smallChunk = 64

// point is one stored metric point; a NaN value is the NaN flag.
type point struct {
	step, ts int64
	v        float64
}

// cmpPoint orders points as history reads return them.
func cmpPoint(a, b point) int {
	if c := cmp.Compare(a.step, b.step); c != 0 {
		return c
	}
	if c := cmp.Compare(a.ts, b.ts); c != 0 {
		return c
	}
	an, bn := math.IsNaN(a.v), math.IsNaN(b.v)
	switch {
	case an && bn:
		return 0
	case an:
		return 1
	case bn:
		return -1
	case a.v < b.v:
		return -1
	case a.v > b.v:
		return 1
	}
	return 0
}

// appendChunk appends the encoding of sorted points to buf.
func appendChunk(buf []byte, pts []point) []byte {
	buf = binary.AppendUvarint(buf, uint64(len(pts)))
	var step, ts int64
	for _, p := range pts {
		buf = binary.AppendVarint(buf, p.step-step)
		buf = binary.AppendVarint(buf, p.ts-ts)
		step, ts = p.step, p.ts
		bits := math.Float64bits(p.v)
		if math.IsNaN(p.v) {
			bits = math.Float64bits(math.NaN())
		}
		buf = binary.LittleEndian.AppendUint64(buf, bits)
	}
	return buf
}

var errBadChunk = errors.New("corrupt metric chunk")

// decodeChunk appends the points of a chunk to dst.
func decodeChunk(dst []point, data []byte) ([]point, error) {
	n, k := binary.Uvarint(data)
	// Every point takes at least 10 bytes.
	if k <= 0 || n > uint64(len(data)-k)/10 {
		return dst, errBadChunk
	}
	data = data[k:]
	dst = slices.Grow(dst, int(n))
	var step, ts int64
	for range n {
		d, k := binary.Varint(data)
		if k <= 0 {
			return dst, errBadChunk
		}
		step += d
		data = data[k:]
		if d, k = binary.Varint(data); k <= 0 {
			return dst, errBadChunk
		}
		ts += d
		data = data[k:]
		if len(data) < 8 {
			return dst, errBadChunk
		}
		dst = append(dst, point{step, ts, math.Float64frombits(binary.LittleEndian.Uint64(data))})
		data = data[8:]
	}
	return dst, nil
}

// chunkRow is one chunk to write: seq names it among the chunks of its
// series with the same first step.
type chunkRow struct {
	series, firstStep, seq, lastStep int64
	points                           int
	data                             []byte
}

// makeChunks cuts sorted points into chunks, the first with seq first and
// the rest with seqs taken from next.
func makeChunks(series int64, pts []point, first int64, next func() int64) []chunkRow {
	var out []chunkRow
	seq := first
	for len(pts) > 0 {
		part := pts[:min(len(pts), maxChunkPoints)]
		pts = pts[len(part):]
		out = append(out, chunkRow{series: series, firstStep: part[0].step, seq: seq, lastStep: part[len(part)-1].step,
			points: len(part), data: appendChunk(make([]byte, 0, 1+len(part)*12), part)})
		if len(pts) > 0 {
			seq = next()
		}
	}
	return out
}

// seriesPoints groups a batch's points by key, in first-seen key order,
// each group sorted in history order.
func seriesPoints(ms []tracking.Metric) (map[string][]point, []string) {
	byKey := map[string][]point{}
	var order []string
	for _, m := range ms {
		pts, ok := byKey[m.Key]
		if !ok {
			order = append(order, m.Key)
		}
		byKey[m.Key] = append(pts, point{m.Step, m.Timestamp, m.Value})
	}
	for _, pts := range byKey {
		if !slices.IsSortedFunc(pts, cmpPoint) {
			slices.SortFunc(pts, cmpPoint)
		}
	}
	return byKey, order
}

// reservedSeqs is how many chunk seqs a batch of n points of a series
// reserves in its series row (tracking_latest_metrics.chunk_seq): enough
// for the chunks it may write, whether or not it extends the last chunk.
func reservedSeqs(n int) int64 {
	return int64((n+smallChunk)/maxChunkPoints + 1)
}

// needsTail reports whether a batch of n points of a series whose chunk
// seqs now end at seqEnd should read the series' last chunk to extend it:
// only when the points are few, and never for a series that had no chunk
// before the batch (its counter holds just the batch's reservation), as
// every series of a new run.
func needsTail(n int, seqEnd int64) bool {
	return n < smallChunk && seqEnd > reservedSeqs(n)
}

// tailChunk is a series' last chunk (greatest first step, then seq), with
// its points when it is small enough to take more.
type tailChunk struct {
	seq int64
	pts []point
}

// tailChunkQuery reads a series' last chunk; its data only when small
// (64 is smallChunk).
const tailChunkQuery = `SELECT seq, CASE WHEN points < 64 THEN data END FROM tracking_metric_chunks
	WHERE series_id = $1 ORDER BY first_step DESC, seq DESC LIMIT 1`

// planChunks turns one series' sorted batch points into the chunk rows to
// upsert: appended to the last chunk when it is small and the points all
// sort after it, else new chunks with seqs from seqEnd-reserved+1 on.
func planChunks(series int64, pts []point, tail *tailChunk, seqEnd int64) []chunkRow {
	seq := seqEnd - reservedSeqs(len(pts))
	next := func() int64 { seq++; return seq }
	if tail != nil && len(tail.pts) > 0 && len(tail.pts) < smallChunk && cmpPoint(tail.pts[len(tail.pts)-1], pts[0]) <= 0 {
		return makeChunks(series, append(tail.pts, pts...), tail.seq, next)
	}
	return makeChunks(series, pts, next(), next)
}

// readTail reads a series' last chunk for planChunks; nil when the series
// has none or it is full enough.
func readTail(ctx context.Context, q execer, series int64) (*tailChunk, error) {
	var t tailChunk
	var data []byte
	err := q.QueryRowContext(ctx, tailChunkQuery, series).Scan(&t.seq, &data)
	if err == sql.ErrNoRows || (err == nil && data == nil) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	t.pts, err = decodeChunk(nil, data)
	return &t, err
}

// maxChunkRows bounds the rows of one SQLite chunk upsert.
const maxChunkRows = 32

// chunkUpsertSet makes an upsert of a chunk replace the stored one: the
// last chunk rewritten with the batch's points appended.
const chunkUpsertSet = ` ON CONFLICT (series_id, first_step, seq) DO UPDATE SET
	last_step = excluded.last_step, points = excluded.points, data = excluded.data`

// writeChunksSQLite upserts chunk rows with multi-row statements, with
// anonymous "?" parameters: modernc.org/sqlite binds numbered "$N"
// parameters in time quadratic in their count (BenchmarkRawSQLiteInsert1000
// with RAW_DOLLAR=1).
func writeChunksSQLite(ctx context.Context, tx *sql.Tx, rows []chunkRow) error {
	args := make([]any, 0, 6*min(len(rows), maxChunkRows))
	for len(rows) > 0 {
		n := pow2Chunk(len(rows), maxChunkRows)
		args = args[:0]
		for _, c := range rows[:n] {
			args = append(args, c.series, c.firstStep, c.seq, c.lastStep, c.points, c.data)
		}
		rows = rows[n:]
		if _, err := tx.ExecContext(ctx, `INSERT INTO tracking_metric_chunks (series_id, first_step, seq, last_step, points, data) VALUES `+
			strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?, ?), ", n), ", ")+chunkUpsertSet, args...); err != nil {
			return mapErr(err, "Metric")
		}
	}
	return nil
}

// pgWriteChunks is writeChunksSQLite on PostgreSQL: one statement over
// arrays.
const pgWriteChunks = `INSERT INTO tracking_metric_chunks (series_id, first_step, seq, last_step, points, data)
	SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], $5::int[], $6::bytea[])` + chunkUpsertSet

// pgChunkArgs are pgWriteChunks' arguments.
func pgChunkArgs(rows []chunkRow) []any {
	n := len(rows)
	series, firsts, seqs, lasts := make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
	points, data := make([]int32, n), make([][]byte, n)
	for i, c := range rows {
		series[i], firsts[i], seqs[i], lasts[i], points[i], data[i] = c.series, c.firstStep, c.seq, c.lastStep, int32(c.points), c.data
	}
	return []any{series, firsts, seqs, lasts, points, data}
}

// pgTailChunks reads the last chunk of several series in one statement
// (readTail per series on SQLite, where a statement costs no round trip).
const pgTailChunks = `SELECT s.id, c.seq, CASE WHEN c.points < 64 THEN c.data END
	FROM unnest($1::bigint[]) AS s(id) CROSS JOIN LATERAL (
	  SELECT seq, points, data FROM tracking_metric_chunks WHERE series_id = s.id ORDER BY first_step DESC, seq DESC LIMIT 1) c`

// chunkCursor walks one decoded chunk.
type chunkCursor struct {
	pts []point
	i   int
}

// chunkHeap orders open chunks by their next point.
type chunkHeap []*chunkCursor

func (h chunkHeap) Len() int           { return len(h) }
func (h chunkHeap) Less(i, j int) bool { return cmpPoint(h[i].pts[h[i].i], h[j].pts[h[j].i]) < 0 }
func (h chunkHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *chunkHeap) Push(x any)        { *h = append(*h, x.(*chunkCursor)) }
func (h *chunkHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// eachPoint calls fn with the points of a series whose step lies in
// lo..hi and that do not sort before from (when set), in history order,
// until fn returns false. It reads the chunks that can hold such points in
// first-step order and merges them: a point is passed on once no chunk not
// yet read can hold one sorting before it, so a page stops reading soon
// after it is full. (On PostgreSQL the chunks a page leaves unread still
// cross the connection, as the driver drains the result on Close: the rest
// of the series per page. Reading in bounded batches would avoid that; all
// 8 pages of 200,000 points take 31-63 ms as it is, MetricHistory200k.)
func (db *DB) eachPoint(ctx context.Context, series, lo, hi int64, from *point, fn func(point) bool) error {
	rows, err := db.read.QueryContext(ctx, `SELECT first_step, data FROM tracking_metric_chunks
		WHERE series_id = $1 AND first_step <= $2 AND last_step >= $3 ORDER BY first_step, seq`, series, hi, lo)
	if err != nil {
		return err
	}
	defer rows.Close()
	var h chunkHeap
	var free [][]point // buffers of chunks done, for the next ones
	var next int64     // first step of the chunk rows holds, when more
	more := rows.Next()
	var data sql.RawBytes
	if more {
		if err := rows.Scan(&next, &data); err != nil {
			return err
		}
	}
	for {
		for more && (len(h) == 0 || next <= h[0].pts[h[0].i].step) {
			var buf []point
			if n := len(free); n > 0 {
				buf, free = free[n-1], free[:n-1]
			}
			pts, err := decodeChunk(buf, data)
			if err != nil {
				return err
			}
			// Skip the points before the range or the cursor.
			i, _ := slices.BinarySearchFunc(pts, lo, func(p point, s int64) int { return cmp.Compare(p.step, s) })
			if from != nil {
				j, _ := slices.BinarySearchFunc(pts[i:], *from, cmpPoint)
				i += j
			}
			if i < len(pts) {
				heap.Push(&h, &chunkCursor{pts: pts, i: i})
			} else {
				free = append(free, pts[:0])
			}
			if more = rows.Next(); more {
				if err := rows.Scan(&next, &data); err != nil {
					return err
				}
			}
		}
		if len(h) == 0 {
			break
		}
		c := h[0]
		p := c.pts[c.i]
		if p.step > hi {
			break
		}
		if !fn(p) {
			return nil
		}
		if c.i++; c.i == len(c.pts) {
			heap.Pop(&h)
			free = append(free, c.pts[:0])
		} else {
			heap.Fix(&h, 0)
		}
	}
	return rows.Err()
}

// FindMetricHistory returns up to q.Limit points of a series after q.After,
// in (step, timestamp, value) order. Points at exactly the cursor's (step,
// timestamp) are skipped q.After.Seq times, so pages never skip or repeat
// points with equal positions. The points come from the series' chunks
// (eachPoint), merged in Go.
func (db *DB) FindMetricHistory(ctx context.Context, q tracking.HistoryQuery) ([]tracking.Metric, error) {
	var seriesID int64
	err := db.read.QueryRowContext(ctx, `SELECT id FROM tracking_latest_metrics WHERE run_id = $1 AND key = $2`, q.RunID, q.Key).Scan(&seriesID)
	if err == sql.ErrNoRows {
		return nil, nil
	}
	if err != nil {
		return nil, mapErr(err, "Metric")
	}
	lo, hi := int64(math.MinInt64), int64(math.MaxInt64)
	if q.StartStep != nil {
		lo = *q.StartStep
	}
	if q.EndStep != nil {
		hi = *q.EndStep
	}
	var from *point
	skip := int64(0)
	if q.After != nil {
		// The smallest point at the cursor's (step, timestamp).
		from = &point{q.After.Step, q.After.Timestamp, math.Inf(-1)}
		lo = max(lo, q.After.Step)
		skip = q.After.Seq
	}
	ms := make([]tracking.Metric, 0, min(q.Limit, 1<<16))
	if q.Limit <= 0 || lo > hi {
		return ms, nil
	}
	err = db.eachPoint(ctx, seriesID, lo, hi, from, func(p point) bool {
		if skip > 0 && p.step == q.After.Step && p.ts == q.After.Timestamp {
			skip--
			return true
		}
		ms = append(ms, tracking.Metric{Key: q.Key, Value: p.v, Timestamp: p.ts, Step: p.step})
		return len(ms) < q.Limit
	})
	return ms, mapErr(err, "Metric history")
}
