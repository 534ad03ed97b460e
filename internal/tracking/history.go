package tracking

import (
	"context"

	"github.com/trellisml/trellis/internal/project"
	"github.com/trellisml/trellis/internal/trellis"
)

// MaxHistoryPage bounds one get-history page when the client sets no
// max_results.
const MaxHistoryPage = 1_000_000

type historyToken struct {
	Step int64 `json:"s"`
	TS   int64 `json:"t"`
	Seq  int64 `json:"q"`
}

// MetricHistory returns a page of a metric series in (step, timestamp)
// order and the token of the next page. Errors: EINVALID, ENOTFOUND.
func (s *Service) MetricHistory(ctx context.Context, proj *project.Project, runID, key string, maxResults int64, token string) ([]Metric, string, error) {
	if key == "" {
		return nil, "", trellis.Invalid("metric_key", "Missing value for required parameter 'metric_key'.")
	}
	if _, err := s.runInfo(ctx, proj, runID); err != nil {
		return nil, "", err
	}
	limit := MaxHistoryPage
	if maxResults < 0 {
		return nil, "", trellis.Invalid("max_results", "max_results must be positive")
	}
	if maxResults > 0 && maxResults < MaxHistoryPage {
		limit = int(maxResults)
	}
	q := HistoryQuery{RunID: runID, Key: key, Limit: limit + 1}
	if token != "" {
		var t historyToken
		if err := decodeToken(token, &t); err != nil {
			return nil, "", err
		}
		q.After = &HistoryCursor{Step: t.Step, Timestamp: t.TS, Seq: t.Seq}
	}
	ms, err := s.store.FindMetricHistory(ctx, q)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(ms) > limit {
		ms = ms[:limit]
		last := ms[limit-1]
		c := historyToken{Step: last.Step, TS: last.Timestamp}
		i := limit - 1
		for ; i >= 0 && ms[i].Step == c.Step && ms[i].Timestamp == c.TS; i-- {
			c.Seq++
		}
		if i < 0 && q.After != nil && q.After.Step == c.Step && q.After.Timestamp == c.TS {
			c.Seq += q.After.Seq
		}
		next = encodeToken(c)
	}
	return ms, next, nil
}

// IntervalQuery asks for a metric of several runs, sampled over steps.
type IntervalQuery struct {
	RunIDs             []string
	Key                string
	StartStep, EndStep *int64
	MaxResults         int64
}

// RunMetric is a metric point with its run.
type RunMetric struct {
	Metric
	RunID string
}

// MaxIntervalPoints bounds the points one run's series is read with for
// get-history-bulk-interval.
const MaxIntervalPoints = 5_000_000

// MetricIntervals answers MLflow's get-history-bulk-interval: for each run,
// the points at up to MaxResults steps spread evenly over the run's steps
// in the range, always including the first and last step. Errors: EINVALID,
// ENOTFOUND.
func (s *Service) MetricIntervals(ctx context.Context, proj *project.Project, q IntervalQuery) ([]RunMetric, error) {
	if len(q.RunIDs) == 0 || len(q.RunIDs) > 100 {
		return nil, trellis.Invalid("run_ids", "run_ids must name between 1 and 100 runs")
	}
	if q.Key == "" {
		return nil, trellis.Invalid("metric_key", "Missing value for required parameter 'metric_key'.")
	}
	max := q.MaxResults
	if max == 0 {
		max = 1000
	}
	if max < 0 || max > 10000 {
		return nil, trellis.Invalid("max_results", "max_results must be between 1 and 10000")
	}
	var out []RunMetric
	for _, id := range q.RunIDs {
		if _, err := s.findRun(ctx, proj, id); err != nil {
			return nil, err
		}
		ms, err := s.store.FindMetricHistory(ctx, HistoryQuery{RunID: id, Key: q.Key, Limit: MaxIntervalPoints, StartStep: q.StartStep, EndStep: q.EndStep})
		if err != nil {
			return nil, err
		}
		var steps []int64
		for i, m := range ms {
			if i == 0 || m.Step != ms[i-1].Step {
				steps = append(steps, m.Step)
			}
		}
		keep := map[int64]bool{}
		if int64(len(steps)) <= max {
			for _, st := range steps {
				keep[st] = true
			}
		} else if max == 1 {
			keep[steps[0]] = true
		} else {
			for i := int64(0); i < max; i++ {
				keep[steps[i*int64(len(steps)-1)/(max-1)]] = true
			}
		}
		for _, m := range ms {
			if keep[m.Step] {
				out = append(out, RunMetric{Metric: m, RunID: id})
			}
		}
	}
	return out, nil
}

// MaxChartBuckets bounds a chart request: about one bucket per pixel of a
// wide screen.
const MaxChartBuckets = 4000

// ChartSeries returns a metric of a run downsampled to at most buckets
// min/max buckets over the steps [start, end] (nil: the whole series).
// Zooming in narrows the range until each bucket is one point: full
// resolution. Errors: EINVALID, ENOTFOUND.
func (s *Service) ChartSeries(ctx context.Context, proj *project.Project, runID, key string, start, end *int64, buckets int) ([]Bucket, error) {
	if key == "" {
		return nil, trellis.Invalid("key", "a metric key is required")
	}
	if buckets <= 0 || buckets > MaxChartBuckets {
		return nil, trellis.Invalid("buckets", "buckets must be between 1 and %d", MaxChartBuckets)
	}
	if _, err := s.findRun(ctx, proj, runID); err != nil {
		return nil, err
	}
	return s.store.FindMetricBuckets(ctx, BucketQuery{RunID: runID, Key: key, StartStep: start, EndStep: end, Buckets: buckets})
}
