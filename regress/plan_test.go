package regress

import (
	"context"
	"io"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/flipbench/flipbench/loadtest"
	"github.com/flipbench/flipbench/runfolder"
)

func gateConfig() Config {
	return Config{Runs: 1, Burst: 20, SpeedupBurst: 100, SmallBurst: 20, RSSBurst: 100, Cores: 2,
		KeepAliveClients: 10, SplitBurst: 4, SplitBursts: 20, Log: io.Discard}
}

// TestPlan: every metric together is the whole gate run as it has always
// been; each proof's metrics need only part of it.
func TestPlan(t *testing.T) {
	tests := []struct {
		name string
		only []string
		want plan
	}{
		{"every metric", nil, plan{jobBench: true, engineBench: true, modes: []string{modeStandard, modeCluster, modeQueued},
			levels: []int{1, 20, 100}, clients: true, split: true, rate: true}},
		{"a slower job", []string{MetricJobOverFloor}, plan{jobBench: true}},
		{"a cluster short of workers", []string{MetricClusterSpeedup, MetricClusterSmallBurst, MetricClusterEvenSplit},
			plan{modes: []string{modeStandard, modeCluster}, levels: []int{20, 100}, split: true}},
		{"a cluster without its gate", []string{MetricClusterEvenSplit}, plan{split: true}},
		{"a queued front short of workers", []string{MetricQueuedOverhead}, plan{modes: []string{modeCluster, modeQueued}, levels: []int{100}}},
		{"a gate that counts connections", []string{MetricClusterKeepAlive}, plan{modes: []string{modeCluster}, levels: []int{1}, clients: true}},
		{"the standard server's figures", []string{MetricPeakRSSPerJobPeak, MetricHTTPOverhead, MetricStandardEff},
			plan{modes: []string{modeStandard}, levels: []int{1, 20, 100}}},
		{"the cluster's open-model step", []string{MetricClusterRateP99}, plan{modes: []string{modeCluster}, rate: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := gateConfig()
			cfg.Only = tt.only
			got := cfg.plan()
			if got.jobBench != tt.want.jobBench || got.engineBench != tt.want.engineBench || got.clients != tt.want.clients ||
				got.split != tt.want.split || got.rate != tt.want.rate || !slices.Equal(got.modes, tt.want.modes) || !slices.Equal(got.levels, tt.want.levels) {
				t.Errorf("plan %+v, want %+v", got, tt.want)
			}
		})
	}
}

// TestPlanCoversEveryMetric: a metric the gate knows but no plan measures
// would be missing from every -only run that names it.
func TestPlanCoversEveryMetric(t *testing.T) {
	for _, name := range MetricNames() {
		p := gateConfig().need(name)
		if !p.jobBench && !p.engineBench && !p.split && len(p.modes) == 0 {
			t.Errorf("%s: nothing measures it", name)
		}
	}
}

func TestParseMetrics(t *testing.T) {
	got, err := ParseMetrics(MetricClusterEvenSplit + ", " + MetricJobOverFloor + "," + MetricClusterEvenSplit)
	if err != nil || !slices.Equal(got, []string{MetricClusterEvenSplit, MetricJobOverFloor}) {
		t.Errorf("got %v, %v", got, err)
	}
	if _, err := ParseMetrics("cluster_speed"); err == nil {
		t.Error("an unknown metric passed")
	}
	if _, err := ParseMetrics(""); err == nil {
		t.Error("an empty list passed")
	}
}

// TestMeasureOnly: a run of some metrics serves only what they need, and
// returns only them, though a served run yields more.
func TestMeasureOnly(t *testing.T) {
	cfg := gateConfig()
	cfg.Runs, cfg.Out = 2, t.TempDir()
	cfg.Only = []string{MetricQueuedOverhead}
	var served []ServedRun
	cfg.Serve = func(_ context.Context, run ServedRun) (*runfolder.Summary, error) {
		served = append(served, run)
		shared := level(100, 100, 20, 1, 0, 0, 0)
		shared.Makespan = loadtest.Duration(5 * time.Second)
		queued := level(100, 100, 16, 1, 0, 0, 0)
		queued.Makespan = loadtest.Duration(6 * time.Second)
		return &runfolder.Summary{Modes: []runfolder.ModeRun{
			{Mode: modeCluster, Trial: runfolder.Trial{Levels: []loadtest.Metrics{shared}}},
			{Mode: modeQueued, Trial: runfolder.Trial{Levels: []loadtest.Metrics{queued}}},
		}, S: &runfolder.RunS{Mode: modeStandard, S: loadtest.Duration(100 * time.Millisecond)}}, nil
	}
	cfg.Split = func(context.Context, SplitRun) ([][]int, error) {
		t.Error("split bursts fired for a metric that needs none")
		return nil, nil
	}
	now, samples, err := Measure(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(served) != 2 || !slices.Equal(served[0].Modes, []string{modeCluster, modeQueued}) ||
		!slices.Equal(served[0].Levels, []int{100}) || served[0].Clients != nil {
		t.Errorf("served runs %+v, want 2 of shared and queued at 100, no keep-alive clients", served)
	}
	if len(now) != 1 || math.Abs(now[MetricQueuedOverhead]-1.2) > 1e-9 || len(samples[MetricQueuedOverhead]) != 2 || len(samples) != 1 {
		t.Errorf("now %v, samples %v: want only %s, 1.2 twice", now, samples, MetricQueuedOverhead)
	}
}
