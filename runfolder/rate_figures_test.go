package runfolder

import (
	"testing"
	"time"

	"github.com/flipbench/flipbench/loadtest"
)

// TestStepJobIdeal: the ideal serves each arrival's own job time, on the
// slots asked; an arrival without one (a failure) leaves no ideal.
func TestStepJobIdeal(t *testing.T) {
	sched, err := loadtest.NewSchedule(loadtest.ArrivalsConstant, 10, 400*time.Millisecond, 0)
	if err != nil {
		t.Fatal(err)
	}
	// Arrivals at 0, 100, 200, 300 ms; jobs 250, 50, 50, 50 ms on one slot:
	// starts 0, 250, 300, 350, so latencies 250, 200, 150, 100 ms.
	o := loadtest.OpenMetrics{Schedule: sched, Scheduled: 4, Requests: 4, JobTimes: []loadtest.Duration{
		loadtest.Duration(250 * time.Millisecond), loadtest.Duration(50 * time.Millisecond),
		loadtest.Duration(50 * time.Millisecond), loadtest.Duration(50 * time.Millisecond)}}
	d, ok := StepJobIdeal(o, 1)
	if !ok || d.Max != loadtest.Duration(250*time.Millisecond) || d.Min != loadtest.Duration(100*time.Millisecond) {
		t.Errorf("one slot: %+v (ok %v), want 100ms to 250ms", d, ok)
	}
	// On two slots nothing waits.
	if d, ok := StepJobIdeal(o, 2); !ok || d.Max != loadtest.Duration(250*time.Millisecond) || d.Min != loadtest.Duration(50*time.Millisecond) {
		t.Errorf("two slots: %+v (ok %v), want 50ms to 250ms", d, ok)
	}
	o.JobTimes[2] = 0
	if _, ok := StepJobIdeal(o, 1); ok {
		t.Error("an arrival without its job time made an ideal")
	}
	o.JobTimes = o.JobTimes[:2]
	if _, ok := StepJobIdeal(o, 1); ok {
		t.Error("job times of 2 arrivals of 4 made an ideal")
	}
}

// TestRateOfNoIdealOnOtherEngines: a mode on another engine than S's (the
// Node app's, here not even run beside the S mode) gets its step figures
// but no ideal: S is not its job's time.
func TestRateOfNoIdealOnOtherEngines(t *testing.T) {
	sched, err := loadtest.NewSchedule(loadtest.ArrivalsConstant, 10, time.Second, 0)
	if err != nil {
		t.Fatal(err)
	}
	step := RateStep{Load: 0.5, Metrics: loadtest.OpenMetrics{Schedule: sched, Scheduled: 10, Requests: 10, Successes: 10,
		Latency: loadtest.Dist{Median: loadtest.Duration(400 * time.Millisecond), P99: loadtest.Duration(500 * time.Millisecond)}}}
	sum := &Summary{S: &RunS{Mode: BaselineMode, S: loadtest.Duration(60 * time.Millisecond)}, Rate: &RatePlan{Loads: []float64{0.5}},
		Modes: []ModeRun{
			{Mode: "shared", Spec: Spec{Binary: "bin/clustered"}, Trial: Trial{Capacity: 2, Rates: []RateStep{step}}},
			{Mode: "node-standard", Spec: Spec{Binary: "node", Args: []string{"nodeapp/standard.js"}}, Trial: Trial{Capacity: 1, Rates: []RateStep{step}}},
		}}
	figs := RateOf(sum)
	if len(figs) != 2 {
		t.Fatalf("%d figures, want 2: %+v", len(figs), figs)
	}
	if f := figs[0]; f.Mode != "shared" || f.IdealP99.N != 1 || !(f.P99Ratio.Median > 0) {
		t.Errorf("shared: %+v, want its ideal", f)
	}
	if f := figs[1]; f.Mode != "node-standard" || f.Rounds != 1 || f.IdealP99.N != 0 || f.P99Ratio.N != 0 {
		t.Errorf("node-standard: %+v, want its figures and no ideal", f)
	}
}
