package prefork

import (
	"context"
	"fmt"

	"github.com/flipbench/flipbench/prefork/jobstats"
)

// SeriesReporter is an App that keeps histograms and counters: a worker
// adds its Series to each "stats" line, and its master sums them per worker
// index (Master.Totals).
type SeriesReporter interface {
	Series() []jobstats.Series
}

// Totals returns each worker index's series, summed over every process the
// index has had: the live ones' last reports, and the last reports of those
// that exited. So a total never goes down across a restart (what a process
// counted after its last report, at most statsInterval, is lost with it).
// It asks Run's loop, as Workers does.
func (m *Master) Totals(ctx context.Context) (map[int][]jobstats.Series, error) {
	return askLoop(ctx, m, m.totals, "totals")
}

// askLoop sends a request for a T on ch to Run's loop and waits for its
// answer: the zero T once Run has returned, an error if ctx ends first.
func askLoop[T any](ctx context.Context, m *Master, ch chan chan T, what string) (T, error) {
	req := make(chan T, 1)
	var zero T
	select {
	case ch <- req:
	case <-m.finished:
		return zero, nil
	case <-ctx.Done():
		return zero, fmt.Errorf("prefork: %s: %w", what, ctx.Err())
	}
	return <-req, nil
}

// sumSeries is what Totals returns.
func (r *supervisor) sumSeries() map[int][]jobstats.Series {
	out := make(map[int][]jobstats.Series, len(r.base))
	for slot, s := range r.base {
		out[slot] = jobstats.Merge(nil, s)
	}
	for _, p := range r.procs {
		st, _ := p.lastStats()
		out[p.slot] = jobstats.Merge(out[p.slot], st.Series)
	}
	return out
}
