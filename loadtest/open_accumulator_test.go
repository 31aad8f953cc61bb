package loadtest

import (
	"math"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/flipbench/flipbench/contract"
)

// A distribution of negative values keeps its true max (an open run counts
// from an anchor, so its values can all be below zero).
func TestDistAccNegative(t *testing.T) {
	var a distAcc
	for _, d := range []time.Duration{-3, -1, -2} {
		a.add(d)
	}
	if d := a.dist(); d.Min != -3 || d.Max != -1 || d.Median != -2 {
		t.Errorf("dist %+v, want min -3, median -2, max -1", d)
	}
}

// Past exactSamples results, in an order whose first is the latest, the
// accumulator's latency and lag (counted from its anchor, then moved to the
// run's start) agree with the exact ones: count, min and max exactly, the
// percentiles within 1 %.
func TestOpenAccumulatorBeyondExact(t *testing.T) {
	const n = 3 * exactSamples
	s, err := NewSchedule(ArrivalsConstant, 1000, n*time.Millisecond, 0)
	if err != nil {
		t.Fatal(err)
	}
	began := t0
	acc := NewOpenAccumulator(Open{Schedule: s}, OpenParams{})
	var fromSchedule, lag []time.Duration
	for k := range n {
		i := n - 1 - k // the last arrival first: every later value is below the anchor
		late := time.Duration(i%97) * time.Millisecond
		took := time.Duration(100+(i*7919)%1000) * time.Millisecond
		r := vegeta.Result{Seq: uint64(i), Timestamp: began.Add(s.Offsets[i] + late), Latency: took, Code: 200}
		acc.Add(&r)
		lag = append(lag, late)
		fromSchedule = append(fromSchedule, late+took)
	}
	m, err := acc.Close(began)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name      string
		got, want Dist
	}{{"latency", m.Latency, NewDist(fromSchedule)}, {"lag", m.Lag, NewDist(lag)}} {
		if c.got.Count != c.want.Count || c.got.Min != c.want.Min || c.got.Max != c.want.Max {
			t.Errorf("%s count/min/max = %d %s %s, want %d %s %s", c.name, c.got.Count, c.got.Min, c.got.Max, c.want.Count, c.want.Min, c.want.Max)
		}
		for _, q := range [][2]Duration{{c.got.Median, c.want.Median}, {c.got.P90, c.want.P90}, {c.got.P99, c.want.P99}, {c.got.Mean, c.want.Mean}} {
			if rel := math.Abs(float64(q[0]-q[1])) / float64(q[1]); rel > 0.01 {
				t.Errorf("%s: %s, want %s within 1%%", c.name, q[0], q[1])
			}
		}
	}
	if m.Requests != n || m.Successes != n || m.Failed != 0 {
		t.Errorf("n %d, ok %d, failed %d; want %d, %d, 0", m.Requests, m.Successes, m.Failed, n, n)
	}
}

// TestOpenAccumulatorJobTime: the server's job-time header reaches the
// open metrics, as its queue-time header does.
func TestOpenAccumulatorJobTime(t *testing.T) {
	s, err := NewSchedule(ArrivalsConstant, 10, 300*time.Millisecond, 0)
	if err != nil {
		t.Fatal(err)
	}
	acc := NewOpenAccumulator(Open{Schedule: s}, OpenParams{})
	for i, job := range []string{"80ms", "100ms", "90ms"} {
		r := res(s.Offsets[i], 120*time.Millisecond, 200, contract.HeaderJobTime, job)
		r.Seq = uint64(i)
		acc.Add(&r)
	}
	m, err := acc.Close(t0)
	if err != nil {
		t.Fatal(err)
	}
	if m.JobTime.Count != 3 || m.JobTime.Median.D() != 90*time.Millisecond {
		t.Errorf("job time %+v, want 3 values, median 90ms", m.JobTime)
	}
}
