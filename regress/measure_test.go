package regress

import (
	"math"
	"testing"
	"time"

	"github.com/flipbench/flipbench/loadtest"
	"github.com/flipbench/flipbench/runfolder"
)

// level is a burst of n on one slot whose makespan gives efficiency eff
// in an S of 1 s.
func level(n, ok int, throughput, eff float64, latency, job loadtest.Duration, hwm uint64) loadtest.Metrics {
	return loadtest.Metrics{
		Level: n, Requests: n, Successes: ok, Throughput: throughput, Capacity: 1,
		Makespan: loadtest.Duration(float64(n) * float64(time.Second) / eff),
		Latency:  loadtest.Dist{Median: latency}, JobTime: loadtest.Dist{Median: job}, ServerHWM: hwm,
	}
}

func TestServedMetrics(t *testing.T) {
	cfg := Config{Burst: 20, SpeedupBurst: 20, SmallBurst: 20, RSSBurst: 100, Cores: 2, KeepAliveClients: 10}
	std := runfolder.ModeRun{Mode: modeStandard, Trial: runfolder.Trial{WarmupHWM: 100, Levels: []loadtest.Metrics{
		level(1, 1, 10, 1, 110, 100, 100),
		level(20, 20, 10, 0.9, 0, 0, 120),
		level(100, 100, 10, 0.9, 0, 0, 150),
	}}}
	small := level(20, 20, 16, 0.8, 0, 0, 0)
	small.Makespan = loadtest.Duration(12 * time.Second) // ideal on 2 cores: 10 × 1 s
	clu := runfolder.ModeRun{Mode: modeCluster, Trial: runfolder.Trial{Levels: []loadtest.Metrics{small},
		KeepAlive: []loadtest.KeepAliveMetrics{{Clients: 10, Starved: 8}}}}
	slower := level(20, 20, 12, 0.7, 0, 0, 0)
	slower.Makespan = loadtest.Duration(15 * time.Second)
	queued := runfolder.ModeRun{Mode: modeQueued, Trial: runfolder.Trial{Levels: []loadtest.Metrics{slower}}}
	calib := &runfolder.RunS{Mode: modeStandard, S: loadtest.Duration(time.Second)}
	tests := []struct {
		name  string
		modes []runfolder.ModeRun
		want  map[string]float64
	}{
		{"every mode", []runfolder.ModeRun{std, clu, queued}, map[string]float64{
			MetricStandardEff: 0.9, MetricClusterSpeedup: 0.8, MetricClusterSmallBurst: 1.2, MetricQueuedOverhead: 1.25,
			MetricHTTPOverhead: 1.1, MetricPeakRSSPerJobPeak: 1.5, MetricClusterKeepAlive: 0.2,
		}},
		{"no queued", []runfolder.ModeRun{std, clu}, map[string]float64{
			MetricClusterSpeedup: 0.8, MetricQueuedOverhead: math.NaN(),
		}},
		{"no cluster", []runfolder.ModeRun{std}, map[string]float64{
			MetricStandardEff: 0.9, MetricClusterSpeedup: math.NaN(), MetricClusterSmallBurst: math.NaN(), MetricHTTPOverhead: 1.1, MetricPeakRSSPerJobPeak: 1.5,
			MetricClusterKeepAlive: math.NaN(),
		}},
		{"no standard", []runfolder.ModeRun{clu, queued}, map[string]float64{
			MetricQueuedOverhead: 1.25, MetricClusterKeepAlive: 0.2, MetricClusterSpeedup: math.NaN(), MetricStandardEff: math.NaN(),
		}},
		{"nothing", nil, map[string]float64{
			MetricStandardEff: math.NaN(), MetricClusterSpeedup: math.NaN(), MetricClusterSmallBurst: math.NaN(), MetricHTTPOverhead: math.NaN(), MetricPeakRSSPerJobPeak: math.NaN(),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := servedMetrics(&runfolder.Summary{Modes: tt.modes, S: calib}, cfg)
			for name, want := range tt.want {
				g := got[name]
				if math.IsNaN(want) != math.IsNaN(g) || (!math.IsNaN(want) && math.Abs(g-want) > 1e-9) {
					t.Errorf("%s: got %v, want %v", name, g, want)
				}
			}
		})
	}
}

// TestServedMetricsWithoutS: a run without standard has no S; what needs
// none (a proof's queued front, its keep-alive clients) is still measured.
func TestServedMetricsWithoutS(t *testing.T) {
	cfg := Config{SpeedupBurst: 20, SmallBurst: 20, Cores: 2, KeepAliveClients: 10}
	shared := level(20, 20, 16, 0.8, 0, 0, 0)
	shared.Makespan = loadtest.Duration(12 * time.Second)
	queued := level(20, 20, 12, 0.7, 0, 0, 0)
	queued.Makespan = loadtest.Duration(15 * time.Second)
	got := servedMetrics(&runfolder.Summary{Modes: []runfolder.ModeRun{
		{Mode: modeCluster, Trial: runfolder.Trial{Levels: []loadtest.Metrics{shared}, KeepAlive: []loadtest.KeepAliveMetrics{{Clients: 10, Starved: 8}}}},
		{Mode: modeQueued, Trial: runfolder.Trial{Levels: []loadtest.Metrics{queued}}},
	}}, cfg)
	if math.Abs(got[MetricQueuedOverhead]-1.25) > 1e-9 || math.Abs(got[MetricClusterKeepAlive]-0.2) > 1e-9 || !math.IsNaN(got[MetricClusterSmallBurst]) {
		t.Errorf("got %v, want queued 1.25, keep-alive 0.2, no small burst without S", got)
	}
}

func TestServedMetricsFailedRequestsAreMissing(t *testing.T) {
	cfg := Config{Burst: 20, SpeedupBurst: 20, SmallBurst: 20, RSSBurst: 100, Cores: 2}
	std := runfolder.ModeRun{Mode: modeStandard, Trial: runfolder.Trial{Levels: []loadtest.Metrics{level(20, 19, 10, 0.9, 0, 0, 0)}}}
	got := servedMetrics(&runfolder.Summary{Modes: []runfolder.ModeRun{std}}, cfg)
	if !math.IsNaN(got[MetricStandardEff]) {
		t.Errorf("efficiency of a burst with a failed request: got %v, want NaN (missing)", got[MetricStandardEff])
	}
}

func TestBenchMetrics(t *testing.T) {
	out := []byte(`BenchmarkJob/photo-1mp-2         	 15	  80000000 ns/op	 5552096 B/op	      46 allocs/op
BenchmarkJob/photo-1mp-2         	 16	  60000000 ns/op	 5551940 B/op	      45 allocs/op
BenchmarkJPEGFloor/photo-1mp-2   	 20	  40000000 ns/op	 2000000 B/op	      10 allocs/op
BenchmarkJPEGFloor/photo-1mp-2   	 20	  50000000 ns/op	 2000000 B/op	      10 allocs/op
`)
	samples := map[string][]float64{}
	if err := benchMetrics(out, samples); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		metric string
		want   []float64
	}{
		{MetricJobBytes, []float64{5552096, 5551940}},
		{MetricJobAllocs, []float64{46, 45}},
		{MetricJobOverFloor, []float64{2, 1.2}},
	}
	for _, tt := range tests {
		got := samples[tt.metric]
		if len(got) != len(tt.want) {
			t.Fatalf("%s: got %v, want %v", tt.metric, got, tt.want)
		}
		for i := range got {
			if math.Abs(got[i]-tt.want[i]) > 1e-9 {
				t.Errorf("%s[%d]: got %v, want %v", tt.metric, i, got[i], tt.want[i])
			}
		}
	}
	if err := benchMetrics(out[:200], map[string][]float64{}); err == nil {
		t.Error("want an error when the floor benchmark is missing")
	}
}

func TestEngineTimeRatios(t *testing.T) {
	out := []byte(`BenchmarkEngineJob/imaging/photo-1mp 	 15	  80000000 ns/op
BenchmarkEngineJob/vips/photo-1mp    	 50	  20000000 ns/op
BenchmarkEngineJob/imaging/photo-1mp 	 15	  60000000 ns/op
BenchmarkEngineJob/vips/photo-1mp    	 50	  30000000 ns/op
`)
	got, err := timeRatios(out, VipsJobBenchmark, ImagingJobBenchmark)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || math.Abs(got[0]-0.25) > 1e-9 || math.Abs(got[1]-0.5) > 1e-9 {
		t.Errorf("got %v, want [0.25 0.5]", got)
	}
	// A build without libvips prints no vips results: that is an error, not a pass.
	if _, err := timeRatios(out[:90], VipsJobBenchmark, ImagingJobBenchmark); err == nil {
		t.Error("want an error without the libvips benchmark")
	}
}

func TestEvenShare(t *testing.T) {
	tests := []struct {
		name   string
		splits [][]int
		n      int
		cores  int
		want   float64
	}{
		{"every burst even", [][]int{{2, 2}, {2, 2}}, 4, 2, 1},
		{"one of four uneven", [][]int{{2, 2}, {3, 1}, {2, 2}, {2, 2}}, 4, 2, 0.75},
		{"odd burst off by one is even", [][]int{{3, 2}, {2, 3}}, 5, 2, 1},
		{"a burst on one worker", [][]int{{4}, {2, 2}}, 4, 2, 0.5},
		{"a worker short: its core counts as idle", [][]int{{2, 2}}, 4, 3, 0},
		{"a failed answer is not even", [][]int{{2, 1}}, 4, 2, 0},
		{"no bursts", nil, 4, 2, math.NaN()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := EvenShare(tt.splits, tt.n, tt.cores)
			if math.IsNaN(tt.want) != math.IsNaN(got) || (!math.IsNaN(got) && math.Abs(got-tt.want) > 1e-9) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}
