package deploy

import (
	"slices"
	"testing"

	"github.com/flipbench/flipbench/internal/monitor"
)

// Histograms the servers serve (with _bucket, _count and _sum series).
var histograms = []string{
	"flipbench_http_request_duration_seconds",
	"flipbench_job_duration_seconds",
	"flipbench_job_queue_wait_seconds",
	"flipbench_queue_ack_duration_seconds",
}

// knownNames are the series names a dashboard query may read: the servers'
// and the NATS exporter's pending count.
func knownNames() []string {
	names := []string{
		monitor.MetricJobsDone, monitor.MetricJobsFailed, monitor.MetricJobsInFlight, monitor.MetricJobsQueued,
		monitor.MetricWorkerRSS, monitor.MetricRestarts, monitor.MetricWorkerUp,
		"flipbench_queue_job_transitions_total", "flipbench_queue_redeliveries_total",
		"jetstream_consumer_num_pending",
	}
	for _, h := range histograms {
		names = append(names, h+"_bucket", h+"_count", h+"_sum")
	}
	return names
}

func TestMetricNames(t *testing.T) {
	got := MetricNames(`histogram_quantile(0.99, sum by (le) (rate(flipbench_job_duration_seconds_bucket[1m]))) / on() sum(flipbench_jobs_done_total) + sum(jetstream_consumer_num_pending{consumer_name="flipbench-workers"}) + sum(flipbench_jobs_done_total)`)
	want := []string{"flipbench_job_duration_seconds_bucket", "flipbench_jobs_done_total", "jetstream_consumer_num_pending"}
	if !slices.Equal(got, want) {
		t.Errorf("MetricNames = %v, want %v", got, want)
	}
}

// TestDashboard checks the dashboard's queries without a server: each
// panel has one, each reads only names the servers serve (a misspelt name
// would draw an empty panel for ever), and the panels cover what an
// operator needs.
func TestDashboard(t *testing.T) {
	qs, err := DashboardQueries(DashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	known := knownNames()
	used := map[string]bool{}
	panels := map[string]bool{}
	for _, q := range qs {
		panels[q.Panel] = true
		names := MetricNames(q.Expr)
		if len(names) == 0 {
			t.Errorf("%s reads no flipbench series: %s", q, q.Expr)
		}
		for _, n := range names {
			used[n] = true
			if !slices.Contains(known, n) {
				t.Errorf("%s reads %s, which nothing serves", q, n)
			}
		}
	}
	if len(panels) < 10 {
		t.Errorf("%d panels with queries, want the 10 or more the operator's views need", len(panels))
	}
	for _, n := range []string{
		"flipbench_http_request_duration_seconds_bucket", // p50/p99 by mode and by worker
		"flipbench_http_request_duration_seconds_count",  // throughput
		"flipbench_job_duration_seconds_bucket",
		"flipbench_job_queue_wait_seconds_bucket",
		monitor.MetricJobsInFlight, monitor.MetricJobsQueued, monitor.MetricWorkerRSS,
		monitor.MetricRestarts, monitor.MetricWorkerUp,
		"jetstream_consumer_num_pending", // queue pending
	} {
		if !used[n] {
			t.Errorf("no panel reads %s", n)
		}
	}
}
