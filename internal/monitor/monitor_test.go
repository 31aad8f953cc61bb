package monitor

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/flipbench/flipbench/contract"
)

// TestWorkersCollectorRolling checks the series of a rolling restart's
// moment, when index 0 has two processes: each process has its own job
// series, and the index one restarts and one up series.
func TestWorkersCollectorRolling(t *testing.T) {
	view := func(context.Context) ([]contract.WorkerStatus, error) {
		return []contract.WorkerStatus{
			{Worker: 0, PID: 10, State: "retiring", Restarts: 0, Done: 5, RSSBytes: 1 << 20},
			{Worker: 0, PID: 12, State: "starting", Restarts: 1},
			{Worker: 1, PID: 11, State: "ready", Done: 7, Failed: 1, InFlight: 1, Queued: 2},
		}, nil
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(NewWorkersCollector(view))
	want := `
# HELP flipbench_jobs_done_total Jobs that succeeded.
# TYPE flipbench_jobs_done_total counter
flipbench_jobs_done_total{pid="10",worker="0"} 5
flipbench_jobs_done_total{pid="11",worker="1"} 7
flipbench_jobs_done_total{pid="12",worker="0"} 0
# HELP flipbench_worker_restarts_total Processes the worker index had before its current one.
# TYPE flipbench_worker_restarts_total counter
flipbench_worker_restarts_total{worker="0"} 1
flipbench_worker_restarts_total{worker="1"} 0
# HELP flipbench_worker_up 1 if a ready process serves the worker index.
# TYPE flipbench_worker_up gauge
flipbench_worker_up{worker="0"} 0
flipbench_worker_up{worker="1"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), MetricJobsDone, MetricRestarts, MetricWorkerUp); err != nil {
		t.Error(err)
	}
}

// TestWorkersCollectorError checks that a master that cannot answer fails
// the scrape instead of reporting no workers.
func TestWorkersCollectorError(t *testing.T) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(NewWorkersCollector(func(context.Context) ([]contract.WorkerStatus, error) {
		return nil, errors.New("master busy")
	}))
	if _, err := reg.Gather(); err == nil {
		t.Error("Gather succeeded with a failing view")
	}
}
