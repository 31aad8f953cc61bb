package monitor

import (
	"context"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/flipbench/flipbench/prefork/jobstats"
)

// TestSeriesRoundTrip checks that what a worker's Snapshot reports comes
// out of a master's collector as the same histograms and counters, with
// the worker label.
func TestSeriesRoundTrip(t *testing.T) {
	h := NewHistogram(MetricRequestDuration)
	q := NewCounter(MetricRedeliveries)
	src := prometheus.NewRegistry()
	src.MustRegister(h, q)
	h.WithLabelValues("/flip", "200").Observe(0.004)
	h.WithLabelValues("/flip", "200").Observe(0.3)
	q.WithLabelValues().Add(2)
	series, err := Snapshot(src)
	if err != nil {
		t.Fatal(err)
	}
	if len(series) != 2 {
		t.Fatalf("Snapshot = %+v, want 2 series", series)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(NewSeriesCollector(func(context.Context) (map[int][]jobstats.Series, error) {
		return map[int][]jobstats.Series{1: series}, nil
	}, MetricRequestDuration, MetricRedeliveries))
	want := `
# HELP flipbench_queue_redeliveries_total Queued jobs delivered to a worker again after an earlier delivery.
# TYPE flipbench_queue_redeliveries_total counter
flipbench_queue_redeliveries_total{worker="1"} 2
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), MetricRedeliveries); err != nil {
		t.Error(err)
	}
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() != MetricRequestDuration {
			continue
		}
		m := f.GetMetric()[0]
		hist := m.GetHistogram()
		if hist.GetSampleCount() != 2 || hist.GetBucket()[0].GetCumulativeCount() != 1 || len(hist.GetBucket()) != len(Buckets()) {
			t.Errorf("histogram = %v, want 2 observations, 1 in the first of %d buckets", hist, len(Buckets()))
		}
		if len(m.GetLabel()) != 3 {
			t.Errorf("labels %v, want route, code and worker", m.GetLabel())
		}
		return
	}
	t.Errorf("no %s gathered", MetricRequestDuration)
}
