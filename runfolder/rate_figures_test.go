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
