package loadtest

import (
	"context"
	"errors"
	"math"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/flipbench/flipbench/contract"
)

const ms = time.Millisecond

func TestComputeOpenByHand(t *testing.T) {
	began := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	s := Schedule{Arrivals: ArrivalsConstant, Rate: 10, Duration: Duration(400 * ms),
		Offsets: []time.Duration{0, 100 * ms, 200 * ms, 300 * ms}}
	hdr := func(queue, job string) http.Header {
		h := http.Header{}
		h.Set(contract.HeaderQueueTime, queue)
		h.Set(contract.HeaderJobTime, job)
		h.Set(contract.HeaderWorkerPID, "7")
		return h
	}
	run := OpenRun{Schedule: s, Began: began, Results: vegeta.Results{
		// Sent 1 ms late, answered 100 ms after its send.
		{Seq: 0, Timestamp: began.Add(1 * ms), Latency: 100 * ms, Code: 200, Headers: hdr("0s", "95ms")},
		// Sent 30 ms late (the driver fell behind), answered after 150 ms.
		{Seq: 1, Timestamp: began.Add(130 * ms), Latency: 150 * ms, Code: 200, Headers: hdr("50ms", "97ms")},
		{Seq: 2, Timestamp: began.Add(200 * ms), Latency: 5 * ms, Code: 503, Error: "503 Service Unavailable"},
		{Seq: 3, Timestamp: began.Add(300 * ms), Latency: 2 * ms, Error: "connection refused"},
	}}
	m, err := ComputeOpen(run, OpenParams{Capacity: 1, S: 100 * ms, LagBound: 20 * ms})
	if err != nil {
		t.Fatal(err)
	}
	if m.Scheduled != 4 || m.Requests != 4 || m.Successes != 2 || m.Shed != 1 || m.Failed != 1 {
		t.Errorf("scheduled %d, n %d, ok %d, shed %d, failed %d; want 4, 4, 2, 1, 1", m.Scheduled, m.Requests, m.Successes, m.Shed, m.Failed)
	}
	if m.OfferedRate != 10 {
		t.Errorf("offered rate = %g, want 10", m.OfferedRate)
	}
	// Two answers by 280 ms after the start.
	if want := 2 / 0.280; math.Abs(m.Goodput-want) > 1e-9 {
		t.Errorf("goodput = %g, want %g", m.Goodput, want)
	}
	// From the schedule: 101, 180, 5, 2 ms; from the send: 100, 150, 5, 2.
	if m.Latency.Max != Duration(180*ms) || m.Latency.Min != Duration(2*ms) || m.LatencyFromSend.Max != Duration(150*ms) {
		t.Errorf("latency from schedule %+v, from send %+v", m.Latency, m.LatencyFromSend)
	}
	if m.Lag.Max != Duration(30*ms) || m.Lag.Median != Duration(0) || !m.Behind || m.LagBound != Duration(20*ms) {
		t.Errorf("lag %+v (bound %s), behind %v; want at most 30ms, over 20ms", m.Lag, m.LagBound, m.Behind)
	}
	if m.QueueTime.Count != 2 || m.QueueTime.Max != Duration(50*ms) || m.Workers["7"] != 2 {
		t.Errorf("queue time %+v, workers %v", m.QueueTime, m.Workers)
	}
	// Each arrival's job time by its index; the failures told none.
	if want := []Duration{Duration(95 * ms), Duration(97 * ms), 0, 0}; !slices.Equal(m.JobTimes, want) {
		t.Errorf("job times %v, want %v", m.JobTimes, want)
	}
	// The ideal: one slot, 100 ms jobs, arrivals 100 ms apart: 100 ms each.
	if m.Ideal.Count != 4 || m.Ideal.Median != Duration(100*ms) || m.Ideal.P99 != Duration(100*ms) {
		t.Errorf("ideal %+v, want 4 latencies of 100ms", m.Ideal)
	}
	// Measured p50 (nearest rank, 2nd of 2, 5, 101, 180) is 5 ms.
	if m.P50Ratio != 0.05 || m.P99Ratio != 1.8 {
		t.Errorf("ratios p50 %g, p99 %g; want 0.05, 1.8", m.P50Ratio, m.P99Ratio)
	}

	// Without capacity and S there is no ideal; at 10/s the default bound
	// is half the 100 ms gap, so 30 ms late is not behind.
	m, err = ComputeOpen(run, OpenParams{})
	if err != nil || m.Ideal.Count != 0 || m.P99Ratio != 0 || m.Behind || m.LagBound != Duration(50*ms) {
		t.Errorf("no params: err %v, ideal %+v, ratio %g, behind %v (bound %s)", err, m.Ideal, m.P99Ratio, m.Behind, m.LagBound)
	}
	run.Results = append(run.Results, vegeta.Result{Seq: 9})
	if _, err := ComputeOpen(run, OpenParams{}); err == nil {
		t.Error("a result beyond the schedule gave no error")
	}
}

// instant answers at once, with the queue-time header.
func instant(w http.ResponseWriter, _ *http.Request, _ int64) {
	w.Header().Set(contract.HeaderQueueTime, "0s")
	w.Write([]byte(`{"ok":true}`))
}

func TestOpenAttackFollowsTheSchedule(t *testing.T) {
	for _, keepAlive := range []bool{false, true} {
		srv, conns := countingServer(t, instant)
		s, err := NewSchedule(ArrivalsConstant, 20, time.Second, 0)
		if err != nil {
			t.Fatal(err)
		}
		run, err := OpenAttack(context.Background(), post(srv.URL), Open{Schedule: s, KeepAlive: keepAlive}, WithTimeout(10*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		if len(run.Results) != 20 || run.Began.IsZero() {
			t.Fatalf("keep-alive %v: %d results, began %v; want 20 and a start", keepAlive, len(run.Results), run.Began)
		}
		seen := map[uint64]bool{}
		for i := range run.Results {
			r := &run.Results[i]
			due, _ := run.Scheduled(r)
			seen[r.Seq] = true
			// A send never leaves before its time; vegeta may start its clock
			// a few nanoseconds before the pacer reads it.
			if r.Timestamp.Before(due.Add(-time.Microsecond)) {
				t.Errorf("arrival %d sent at %s, due at %s", r.Seq, r.Timestamp.Sub(run.Began), due.Sub(run.Began))
			}
		}
		if len(seen) != 20 {
			t.Errorf("distinct arrivals = %d, want 20", len(seen))
		}
		m, err := ComputeOpen(run, OpenParams{})
		if err != nil {
			t.Fatal(err)
		}
		if m.Successes != 20 || m.Latency.Count != 20 || m.Latency.Min < m.LatencyFromSend.Min || m.Latency.Max < m.LatencyFromSend.Max {
			t.Errorf("ok %d, latency from schedule %+v, from send %+v", m.Successes, m.Latency, m.LatencyFromSend)
		}
		// Fresh connections: one per arrival. A pool: an instant answer
		// frees the connection 50 ms before the next arrival needs one.
		switch got := conns.Load(); {
		case !keepAlive && got != 20:
			t.Errorf("fresh connections: %d connections for 20 arrivals", got)
		case keepAlive && got >= 20:
			t.Errorf("kept-alive pool: %d connections for 20 arrivals, none reused", got)
		}
	}
}

// TestOpenAttackCountsFromTheSchedule holds the driver to one request in
// flight against a server that takes 200 ms: arrivals due every 50 ms wait
// for the one worker, as a closed-loop driver's would. Latency from the
// send hides that wait (coordinated omission); latency from the schedule
// keeps it, and the run says it fell behind.
func TestOpenAttackCountsFromTheSchedule(t *testing.T) {
	const job = 200 * ms
	srv, conns := countingServer(t, func(w http.ResponseWriter, r *http.Request, _ int64) {
		time.Sleep(job) // a job's time (simulated work)
		instant(w, r, 0)
	})
	s, err := NewSchedule(ArrivalsConstant, 20, 250*ms, 0)
	if err != nil {
		t.Fatal(err)
	}
	run, err := OpenAttack(context.Background(), post(srv.URL), Open{Schedule: s, MaxInFlight: 1}, WithTimeout(10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	m, err := ComputeOpen(run, OpenParams{})
	if err != nil {
		t.Fatal(err)
	}
	if m.Successes != 5 || conns.Load() != 5 {
		t.Fatalf("%d ok on %d connections, want 5 and 5", m.Successes, conns.Load())
	}
	// The 5th arrival, due at 200 ms, cannot leave before the 4 before it
	// took 4 jobs: at least 600 ms late, and answered at least 800 ms after
	// its schedule, though one job after its send.
	if m.Lag.Max.D() < 3*job || !m.Behind {
		t.Errorf("lag %+v, behind %v; want at least %s late", m.Lag, m.Behind, 3*job)
	}
	if m.Latency.Max.D() < 4*job || m.Latency.Max.D() < m.LatencyFromSend.Max.D()+3*job {
		t.Errorf("latency from schedule max %s, from send max %s: the wait for a worker is not counted", m.Latency.Max, m.LatencyFromSend.Max)
	}
}

// Cancelling an open-model attack with a reason stops it at once; what it
// measured comes back with the reason.
func TestOpenAttackStopsOnCancel(t *testing.T) {
	srv, _ := countingServer(t, instant)
	s, err := NewSchedule(ArrivalsConstant, 10, time.Hour, 0)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	run, err := OpenAttack(ctx, post(srv.URL), Open{Schedule: s}, WithOnResult(func(r *vegeta.Result) {
		if r.Seq == 2 {
			cancel(Stop("memory"))
		}
	}))
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "stopped after") {
		t.Errorf("error = %v, want a cancellation", err)
	}
	if got := StoppedReason(err); got != "memory" {
		t.Errorf("StoppedReason(%v) = %q, want memory", err, got)
	}
	if n := len(run.Results); n < 3 || n > 10 {
		t.Errorf("results after cancelling at the 3rd: %d, want a handful of 36000", n)
	}
}

// Against a refused port an open-model attack with a gone-after time ends
// as server gone, long before its schedule, and keeps no result.
func TestOpenAttackRefusedEndsGone(t *testing.T) {
	for _, keepAlive := range []bool{false, true} {
		s, err := NewSchedule(ArrivalsConstant, 50, time.Minute, 0)
		if err != nil {
			t.Fatal(err)
		}
		load := Open{Schedule: s, KeepAlive: keepAlive}
		acc := NewOpenAccumulator(load, OpenParams{})
		run, err := OpenAttack(context.Background(), post(refusedURL(t)), load, WithGoneAfter(200*ms), WithoutResults(),
			WithOnResult(acc.Add))
		if !errors.Is(err, ErrServerGone) || StoppedReason(err) != StoppedGone {
			t.Fatalf("keep-alive %v: err = %v, want ErrServerGone", keepAlive, err)
		}
		m, merr := acc.Close(run.Began)
		if merr != nil {
			t.Fatal(merr)
		}
		t.Logf("keep-alive %v: gone after %d of %d arrivals", keepAlive, m.Requests, len(s.Offsets))
		// Running the schedule out would take a minute and 3000 arrivals.
		if m.Requests < 1 || m.Requests > len(s.Offsets)/10 || m.Failed != m.Requests || len(run.Results) != 0 {
			t.Errorf("keep-alive %v: %d results counted (%d failed), %d kept; want a few, all failed, none kept",
				keepAlive, m.Requests, m.Failed, len(run.Results))
		}
	}
}

// With a Recorder and an accumulator, an open-model attack streams its
// results to the .bin; ReadResults gives them back, as many as the metrics
// count, and the metrics made again from them agree.
func TestOpenAttackStreamsToTheBin(t *testing.T) {
	srv, _ := countingServer(t, instant)
	s, err := NewSchedule(ArrivalsPoisson, 40, 500*ms, 3)
	if err != nil {
		t.Fatal(err)
	}
	load := Open{Schedule: s}
	dir := t.TempDir()
	rec, err := NewRecorder(dir, s.Name())
	if err != nil {
		t.Fatal(err)
	}
	acc := NewOpenAccumulator(load, OpenParams{})
	run, err := OpenAttack(context.Background(), post(srv.URL), load, WithTimeout(10*time.Second), WithoutResults(),
		WithOnResult(func(r *vegeta.Result) { rec.Add(r); acc.Add(r) }))
	if err != nil {
		t.Fatal(err)
	}
	m, err := acc.Close(run.Began)
	if err != nil {
		t.Fatal(err)
	}
	if err := rec.Close(m); err != nil {
		t.Fatal(err)
	}
	rs, err := ReadResults(filepath.Join(dir, s.Name()+SuffixResults))
	if err != nil {
		t.Fatal(err)
	}
	if len(run.Results) != 0 || len(rs) != m.Requests || m.Requests != len(s.Offsets) || m.Successes != m.Requests {
		t.Fatalf("kept %d, the .bin holds %d, the metrics count %d (%d ok) of %d arrivals",
			len(run.Results), len(rs), m.Requests, m.Successes, len(s.Offsets))
	}
	var stored OpenMetrics
	if err := ReadJSON(filepath.Join(dir, s.Name()+SuffixMetrics), &stored); err != nil {
		t.Fatal(err)
	}
	again, err := ComputeOpen(OpenRun{Schedule: s, Began: stored.Began, Results: rs}, OpenParams{})
	if err != nil {
		t.Fatal(err)
	}
	// The file's times are wall-clock, the run's monotonic: they may part
	// by a clock adjustment's microseconds.
	for _, q := range [][2]Duration{{again.Latency.Max, m.Latency.Max}, {again.Latency.P99, m.Latency.P99}, {again.Lag.Max, m.Lag.Max}} {
		if d := (q[0] - q[1]).D().Abs(); d > time.Millisecond {
			t.Errorf("from the .bin %s, from the run %s", q[0], q[1])
		}
	}
}

func TestOpenAttackBadInput(t *testing.T) {
	if _, err := OpenAttack(context.Background(), post("http://127.0.0.1:1/flip"), Open{}); err == nil || !strings.Contains(err.Error(), "no arrival") {
		t.Errorf("empty schedule: %v", err)
	}
	s, _ := NewSchedule(ArrivalsConstant, 1, time.Second, 0)
	if _, err := OpenAttack(context.Background(), post("http://example.com/flip"), Open{Schedule: s}); err == nil || !strings.Contains(err.Error(), "not a loopback") {
		t.Errorf("remote target: %v", err)
	}
}
