package regress

import (
	"context"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flipbench/flipbench/loadtest"
	"github.com/flipbench/flipbench/runfolder"
)

// rateSummary is a run whose cluster (reporting capacity) took a step of
// 16 constant arrivals at 16/s, with p99 p99, the given answers and every
// job 100 ms long, so on 2 slots the ideal answers each in 100 ms.
func rateSummary(t *testing.T, capacity int, p99 time.Duration, successes int, stopped string) *runfolder.Summary {
	t.Helper()
	sched, err := loadtest.NewSchedule(loadtest.ArrivalsConstant, 16, time.Second, 0)
	if err != nil {
		t.Fatal(err)
	}
	jobs := make([]loadtest.Duration, len(sched.Offsets))
	for i := range jobs {
		jobs[i] = loadtest.Duration(100 * time.Millisecond)
	}
	o := loadtest.OpenMetrics{Schedule: sched, Scheduled: len(sched.Offsets), Requests: len(sched.Offsets), Successes: successes,
		Latency: loadtest.Dist{P99: loadtest.Duration(p99)}, JobTimes: jobs, Stopped: stopped}
	tr := runfolder.Trial{Capacity: capacity, Rates: []runfolder.RateStep{{Load: DefaultRateLoad, Metrics: o}}}
	return &runfolder.Summary{Modes: []runfolder.ModeRun{{Mode: modeCluster, Trial: tr}},
		S: &runfolder.RunS{Mode: modeStandard, S: loadtest.Duration(100 * time.Millisecond)}}
}

func TestRateMetric(t *testing.T) {
	cfg := Config{Cores: 2}
	noJobTime := rateSummary(t, 2, 150*time.Millisecond, 16, "")
	noJobTime.Modes[0].Trial.Rates[0].Metrics.JobTimes[3] = 0
	tests := []struct {
		name string
		sum  *runfolder.Summary
		want float64
	}{
		{"healthy", rateSummary(t, 2, 150*time.Millisecond, 16, ""), 1.5},
		// A cluster short of workers reports capacity 1, but the ideal is on
		// every core: it must not set its own bar.
		{"the ideal on the cores, not the reported capacity", rateSummary(t, 1, 900*time.Millisecond, 16, ""), 9},
		{"a shed answer is missing", rateSummary(t, 2, 150*time.Millisecond, 15, ""), math.NaN()},
		{"a stopped step is missing", rateSummary(t, 2, 150*time.Millisecond, 16, "memory"), math.NaN()},
		{"an answer without its job time is missing", noJobTime, math.NaN()},
		{"no step", &runfolder.Summary{Modes: []runfolder.ModeRun{{Mode: modeCluster}}}, math.NaN()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := servedMetrics(tt.sum, cfg)[MetricClusterRateP99]
			if math.IsNaN(tt.want) != math.IsNaN(got) || (!math.IsNaN(got) && math.Abs(got-tt.want) > 1e-9) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

// TestRateMetricJobsAsRun: the ideal serves each job as long as the
// cluster said it took, not S. Jobs of 300 ms on 2 slots serve 6.7/s of
// the 16/s offered, so the ideal itself queues: the slots free every
// 300 ms from 0 and 62.5 ms, so the last of the 16, due at 937.5 ms,
// starts at 2162.5 ms and ends at 2462.5 ms.
func TestRateMetricJobsAsRun(t *testing.T) {
	sum := rateSummary(t, 2, 3*time.Second, 16, "")
	o := &sum.Modes[0].Trial.Rates[0].Metrics
	for i := range o.JobTimes {
		o.JobTimes[i] = loadtest.Duration(300 * time.Millisecond)
	}
	const idealP99 = 2462500*time.Microsecond - 937500*time.Microsecond
	want := float64(3*time.Second) / float64(idealP99)
	if got := servedMetrics(sum, Config{Cores: 2})[MetricClusterRateP99]; math.Abs(got-want) > 1e-9 {
		t.Errorf("got %v, want %v (an ideal p99 of %s)", got, want, idealP99)
	}
}

// TestMeasureOnlyRate: the open-model metric alone serves the cluster with
// no burst, a step at its load whose rate the cores set, and returns it.
func TestMeasureOnlyRate(t *testing.T) {
	cfg := gateConfig()
	cfg.Out, cfg.RateArrivals, cfg.RateLoad, cfg.Only = t.TempDir(), 50, DefaultRateLoad, []string{MetricClusterRateP99}
	var served []ServedRun
	cfg.Serve = func(_ context.Context, run ServedRun) (*runfolder.Summary, error) {
		served = append(served, run)
		return rateSummary(t, 2, 120*time.Millisecond, 16, ""), nil
	}
	now, _, err := Measure(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(served) != 1 || !slices.Equal(served[0].Modes, []string{modeCluster}) || len(served[0].Levels) != 0 || served[0].Rate == nil {
		t.Fatalf("served %+v, want the cluster alone with a rate step and no burst", served)
	}
	r := served[0]
	if !slices.Equal(r.Rate.Loads, []float64{DefaultRateLoad}) || r.Rate.ArrivalsPerStep != 50 || r.Rate.Arrivals != loadtest.ArrivalsConstant || r.RateCapacity != cfg.Cores {
		t.Errorf("rate %+v on %d slots, want 50 constant arrivals at %g on %d", *r.Rate, r.RateCapacity, DefaultRateLoad, cfg.Cores)
	}
	if got := now[MetricClusterRateP99]; len(now) != 1 || math.Abs(got-1.2) > 1e-9 {
		t.Errorf("now %v, want only %s at 1.2", now, MetricClusterRateP99)
	}
}

// TestCheckNewMetric: a metric the baseline does not hold yet is reported
// and passes, and so does a gate asked for it alone.
func TestCheckNewMetric(t *testing.T) {
	now := map[string]float64{"efficiency": 0.8, "bytes": 1000, "newer": 3}
	verdicts, ok := Check(testBaseline(), now, nil)
	if !ok || len(verdicts) != 3 {
		t.Fatalf("ok %v, %d verdicts %+v: want a pass with 3 rows", ok, len(verdicts), verdicts)
	}
	if v := verdicts[2]; v.Metric != "newer" || v.Verdict != New || v.Now != 3 || v.Baseline != 0 {
		t.Errorf("last row %+v, want newer, %s, now 3", v, New)
	}
	var b strings.Builder
	if err := Render(&b, verdicts); err != nil {
		t.Fatal(err)
	}
	if rows := strings.Split(strings.TrimSpace(b.String()), "\n"); len(rows) != 4 || strings.Fields(rows[3])[1] != "-" {
		t.Errorf("table: want the new row last, without a baseline:\n%s", b.String())
	}
	verdicts, ok = Check(testBaseline().Only([]string{"newer"}), map[string]float64{"newer": math.NaN()}, nil)
	if !ok || len(verdicts) != 1 || verdicts[0].Verdict != New {
		t.Errorf("alone: ok %v, %+v: want a pass, the one row new", ok, verdicts)
	}
	// A regression beside a new metric still fails the gate.
	now["bytes"] = 2000
	if _, ok := Check(testBaseline(), now, nil); ok {
		t.Error("a regression beside a new metric passed")
	}
}
