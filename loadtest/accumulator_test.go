package loadtest

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Past exactSamples values a distribution's percentiles are estimates: within
// 1 % of the exact ones for a uniform spread, with count, min, max and mean
// exact.
func TestDistAccBeyondExact(t *testing.T) {
	const n = 10 * exactSamples
	var (
		a  distAcc
		ds []time.Duration
	)
	for i := range n {
		d := time.Duration((i*7919)%n+1) * time.Millisecond // 1..n ms, shuffled
		a.add(d)
		ds = append(ds, d)
	}
	if a.exact != nil || a.est == nil {
		t.Fatalf("accumulator still keeps %d values, want the estimator past %d", len(a.exact), exactSamples)
	}
	got, want := a.dist(), NewDist(ds)
	if got.Count != want.Count || got.Min != want.Min || got.Max != want.Max || got.Mean != want.Mean {
		t.Errorf("count/min/max/mean = %d %s %s %s, want exact %d %s %s %s",
			got.Count, got.Min, got.Max, got.Mean, want.Count, want.Min, want.Max, want.Mean)
	}
	for _, q := range []struct {
		name      string
		got, want Duration
	}{{"p50", got.Median, want.Median}, {"p90", got.P90, want.P90}, {"p99", got.P99, want.P99}} {
		if rel := math.Abs(float64(q.got-q.want)) / float64(q.want); rel > 0.01 {
			t.Errorf("%s = %s, exact %s: off by %.2f%%, want within 1%%", q.name, q.got, q.want, 100*rel)
		}
	}
}

func TestAccumulatorBoundsErrorKinds(t *testing.T) {
	a := NewAccumulator(Params{})
	for i := range maxErrorKinds + 10 {
		r := res(0, time.Millisecond, 0)
		r.Error = fmt.Sprintf("read tcp 127.0.0.1:%d->127.0.0.1:3000: read: connection reset by peer", 40000+i)
		a.Add(&r)
	}
	m := a.Close()
	if len(m.Errors) != maxErrorKinds+1 || m.Errors[OtherErrors] != 10 {
		t.Errorf("%d error kinds, %d other; want %d kinds and 10 other", len(m.Errors), m.Errors[OtherErrors], maxErrorKinds+1)
	}
}

// A client's connection errors and the reconnects after them are counted.
func TestKeepAliveAccumulatorConnErrors(t *testing.T) {
	refused := `Post "http://127.0.0.1:1/flip": dial tcp 127.0.0.1:1: connect: connection refused`
	var rs vegeta.Results
	for i, code := range []uint16{200, 0, 0, 200, 0, 503} {
		r := res(time.Duration(i)*time.Second, time.Millisecond, code)
		if code == 0 {
			r.Error = refused
		}
		r.Attack = ClientAttack("ka", 0)
		rs = append(rs, r)
	}
	m := ComputeKeepAlive(rs, Closed{Clients: 1, Duration: time.Minute})
	if m.ConnErrors != 3 || m.Reconnects != 3 || m.Answers != 2 || m.Errors != 4 {
		t.Errorf("connection errors %d, reconnects %d, answers %d, errors %d; want 3, 3, 2, 4",
			m.ConnErrors, m.Reconnects, m.Answers, m.Errors)
	}
}

// What a Recorder streams reads back as it went in, and its reports are
// the level's files.
func TestRecorderStreamsALevel(t *testing.T) {
	dir := t.TempDir()
	rec, err := NewRecorder(dir, "rate-5")
	if err != nil {
		t.Fatal(err)
	}
	rs := seconds(3, 1, 2)
	acc := NewAccumulator(Params{})
	for i := range rs {
		rec.Add(&rs[i])
		acc.Add(&rs[i])
	}
	m := acc.Close()
	if err := rec.Close(m); err != nil {
		t.Fatal(err)
	}
	back, err := ReadResults(filepath.Join(dir, "rate-5"+SuffixResults))
	if err != nil {
		t.Fatal(err)
	}
	if len(back) != 3 || !back[0].Equal(rs[0]) {
		t.Errorf("read back %d results, first %+v; want the 3 written", len(back), back)
	}
	for _, f := range LevelFiles("rate-5") {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
	if got := rec.Vegeta().Requests; got != 3 {
		t.Errorf("vegeta metrics count %d requests, want 3", got)
	}
	var stored Metrics
	if err := ReadJSON(filepath.Join(dir, "rate-5"+SuffixMetrics), &stored); err != nil {
		t.Fatal(err)
	}
	if stored.Requests != 3 || stored.Latency.Max != Duration(3*time.Second) {
		t.Errorf("stored metrics %d requests, max %s; want 3 and 3s", stored.Requests, stored.Latency.Max)
	}
}
