package regress

import (
	"math"
	"testing"

	"github.com/flipbench/flipbench/loadtest"
)

func level(n, ok int, throughput, eff float64, latency, job loadtest.Duration, hwm uint64) loadtest.Metrics {
	return loadtest.Metrics{
		Level: n, Requests: n, Successes: ok, Throughput: throughput, Efficiency: eff,
		Latency: loadtest.Dist{Median: latency}, JobTime: loadtest.Dist{Median: job}, ServerHWM: hwm,
	}
}

func TestServedMetrics(t *testing.T) {
	cfg := Config{Burst: 20, RSSBurst: 100, Cores: 2}
	std := loadtest.ModeRun{Mode: loadtest.ModeStandard, WarmupHWM: 100, Levels: []loadtest.Metrics{
		level(1, 1, 10, 1, 110, 100, 100),
		level(20, 20, 10, 0.9, 0, 0, 120),
		level(100, 100, 10, 0.9, 0, 0, 150),
	}}
	clu := loadtest.ModeRun{Mode: loadtest.ModeClustered, Levels: []loadtest.Metrics{
		level(20, 20, 16, 0.8, 0, 0, 0),
	}}
	tests := []struct {
		name  string
		modes []loadtest.ModeRun
		want  map[string]float64
	}{
		{"both modes", []loadtest.ModeRun{std, clu}, map[string]float64{
			MetricStandardEff: 0.9, MetricClusteredSpeedup: 0.8, MetricHTTPOverhead: 1.1, MetricPeakRSSPerJobPeak: 1.5,
		}},
		{"no cluster", []loadtest.ModeRun{std}, map[string]float64{
			MetricStandardEff: 0.9, MetricClusteredSpeedup: math.NaN(), MetricHTTPOverhead: 1.1, MetricPeakRSSPerJobPeak: 1.5,
		}},
		{"nothing", nil, map[string]float64{
			MetricStandardEff: math.NaN(), MetricClusteredSpeedup: math.NaN(), MetricHTTPOverhead: math.NaN(), MetricPeakRSSPerJobPeak: math.NaN(),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := servedMetrics(&loadtest.Summary{Modes: tt.modes}, cfg)
			for name, want := range tt.want {
				g := got[name]
				if math.IsNaN(want) != math.IsNaN(g) || (!math.IsNaN(want) && math.Abs(g-want) > 1e-9) {
					t.Errorf("%s: got %v, want %v", name, g, want)
				}
			}
		})
	}
}

func TestServedMetricsFailedRequestsAreMissing(t *testing.T) {
	cfg := Config{Burst: 20, RSSBurst: 100, Cores: 2}
	std := loadtest.ModeRun{Mode: loadtest.ModeStandard, Levels: []loadtest.Metrics{level(20, 19, 10, 0.9, 0, 0, 0)}}
	got := servedMetrics(&loadtest.Summary{Modes: []loadtest.ModeRun{std}}, cfg)
	if !math.IsNaN(got[MetricStandardEff]) {
		t.Errorf("efficiency of a burst with a failed request: got %v, want NaN (missing)", got[MetricStandardEff])
	}
}
