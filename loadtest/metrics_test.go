package loadtest

import (
	"encoding/json"
	"math"
	"net/http"
	"testing"
	"time"

	"github.com/flipbench/flipbench/contract"
	vegeta "github.com/tsenart/vegeta/v12/lib"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// res is a synthetic result sent at t0+sent that took lat.
func res(sent, lat time.Duration, code uint16, hdr ...string) vegeta.Result {
	h := http.Header{}
	for i := 0; i+1 < len(hdr); i += 2 {
		h.Set(hdr[i], hdr[i+1])
	}
	r := vegeta.Result{Timestamp: t0.Add(sent), Latency: lat, Code: code, Headers: h}
	if code == 0 {
		r.Error = "connection refused"
	} else if code >= 400 {
		r.Error = http.StatusText(int(code))
	}
	return r
}

// seconds returns one 200 result per latency (in seconds), all sent at t0.
func seconds(lat ...float64) vegeta.Results {
	var rs vegeta.Results
	for _, s := range lat {
		rs = append(rs, res(0, time.Duration(s*float64(time.Second)), 200))
	}
	return rs
}

func TestCompute(t *testing.T) {
	ms := time.Millisecond
	for _, tc := range []struct {
		name string
		rs   vegeta.Results
		p    Params
		s    time.Duration // the S the burst is counted in
		want Metrics
		// ideal is want counted in s.
		ideal Ideal
	}{
		{
			name: "one process, ten jobs in a row",
			rs:   seconds(1, 2, 3, 4, 5, 6, 7, 8, 9, 10),
			p:    Params{Capacity: 1},
			s:    time.Second,
			want: Metrics{
				Requests: 10, Successes: 10,
				Latency:     Dist{Count: 10, Min: Duration(time.Second), Median: Duration(5 * time.Second), P90: Duration(9 * time.Second), P99: Duration(10 * time.Second), Max: Duration(10 * time.Second), Mean: Duration(5500 * ms)},
				FirstAnswer: Duration(time.Second), Makespan: Duration(10 * time.Second),
				Throughput: 1,
			},
			ideal: Ideal{S: time.Second, Makespan: 10 * time.Second, Efficiency: 1},
		},
		{
			name: "two slots, half as fast as ideal",
			rs:   seconds(2, 2, 4, 4, 6, 6, 8, 8, 10, 10),
			p:    Params{Capacity: 2},
			s:    time.Second,
			want: Metrics{
				Requests: 10, Successes: 10,
				Latency:     Dist{Count: 10, Min: Duration(2 * time.Second), Median: Duration(6 * time.Second), P90: Duration(10 * time.Second), P99: Duration(10 * time.Second), Max: Duration(10 * time.Second), Mean: Duration(6 * time.Second)},
				FirstAnswer: Duration(2 * time.Second), Makespan: Duration(10 * time.Second),
				Throughput: 1,
			},
			ideal: Ideal{S: time.Second, Makespan: 5 * time.Second, Efficiency: 0.5},
		},
		{
			name: "ideal rounds up: 5 jobs on 2 slots is 3 rounds",
			rs:   seconds(1, 1, 2, 2, 3),
			p:    Params{Capacity: 2},
			s:    time.Second,
			want: Metrics{
				Requests: 5, Successes: 5,
				Latency:     Dist{Count: 5, Min: Duration(time.Second), Median: Duration(2 * time.Second), P90: Duration(3 * time.Second), P99: Duration(3 * time.Second), Max: Duration(3 * time.Second), Mean: Duration(1800 * ms)},
				FirstAnswer: Duration(time.Second), Makespan: Duration(3 * time.Second),
				Throughput: 5.0 / 3,
			},
			ideal: Ideal{S: time.Second, Makespan: 3 * time.Second, Efficiency: 1},
		},
		{
			name: "slow tail: shares over 30 s and 60 s",
			rs:   seconds(10, 20, 31, 45, 59, 61, 70, 80),
			p:    Params{Capacity: 1},
			s:    10 * time.Second,
			want: Metrics{
				Requests: 8, Successes: 8,
				Latency:     Dist{Count: 8, Min: Duration(10 * time.Second), Median: Duration(45 * time.Second), P90: Duration(80 * time.Second), P99: Duration(80 * time.Second), Max: Duration(80 * time.Second), Mean: Duration(47 * time.Second)},
				FirstAnswer: Duration(10 * time.Second), Makespan: Duration(80 * time.Second),
				Throughput: 0.1,
				Over30s:    6.0 / 8, Over60s: 3.0 / 8,
			},
			ideal: Ideal{S: 10 * time.Second, Makespan: 80 * time.Second, Efficiency: 1},
		},
		{
			name: "exactly 30 s is not slower than 30 s",
			rs:   seconds(30, 60),
			want: Metrics{
				Requests: 2, Successes: 2,
				Latency:     Dist{Count: 2, Min: Duration(30 * time.Second), Median: Duration(30 * time.Second), P90: Duration(60 * time.Second), P99: Duration(60 * time.Second), Max: Duration(60 * time.Second), Mean: Duration(45 * time.Second)},
				FirstAnswer: Duration(30 * time.Second), Makespan: Duration(60 * time.Second),
				Throughput: 2.0 / 60, Over30s: 0.5,
			},
		},
		{
			name: "errors count as requests, not successes nor first answers; makespan spans staggered sends",
			rs: vegeta.Results{
				res(0, 1*time.Second, 200),
				res(100*ms, 900*ms, 503),
				res(200*ms, 300*ms, 0),
				res(300*ms, 2700*ms, 200),
			},
			p: Params{Capacity: 4, Timeout: time.Minute},
			s: time.Second,
			want: Metrics{
				Requests: 4, Successes: 2,
				Latency:     Dist{Count: 4, Min: Duration(300 * ms), Median: Duration(900 * ms), P90: Duration(2700 * ms), P99: Duration(2700 * ms), Max: Duration(2700 * ms), Mean: Duration(1225 * ms)},
				SendSpread:  Duration(300 * ms),
				FirstAnswer: Duration(time.Second), Makespan: Duration(3 * time.Second),
				Throughput: 2.0 / 3,
				Timeout:    Duration(time.Minute),
			},
			ideal: Ideal{S: time.Second, Makespan: time.Second, Efficiency: 1.0 / 3},
		},
		{
			name:  "no results",
			rs:    nil,
			p:     Params{Capacity: 2},
			s:     time.Second,
			want:  Metrics{},
			ideal: Ideal{S: time.Second},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Compute(tc.rs, tc.p)
			want := tc.want
			want.Capacity, want.Timeout = tc.p.Capacity, Duration(tc.p.Timeout)
			checkMetrics(t, got, want)
			if id := got.IdealIn(tc.s, 0); id.S != tc.ideal.S || id.Makespan != tc.ideal.Makespan || math.Abs(id.Efficiency-tc.ideal.Efficiency) > 1e-9 {
				t.Errorf("counted in %s: %+v, want %+v", tc.s, id, tc.ideal)
			}
		})
	}
}

// checkMetrics compares the computed fields of got and want (maps only by size).
func checkMetrics(t *testing.T, got, want Metrics) {
	t.Helper()
	near := func(a, b float64) bool { d := a - b; return d < 1e-9 && d > -1e-9 }
	if got.Requests != want.Requests || got.Successes != want.Successes {
		t.Errorf("requests/successes = %d/%d, want %d/%d", got.Requests, got.Successes, want.Requests, want.Successes)
	}
	if got.Latency != want.Latency {
		t.Errorf("latency = %+v\n want %+v", got.Latency, want.Latency)
	}
	if got.SendSpread != want.SendSpread {
		t.Errorf("send spread = %s, want %s", got.SendSpread, want.SendSpread)
	}
	if got.FirstAnswer != want.FirstAnswer || got.Makespan != want.Makespan {
		t.Errorf("first answer, makespan = %s, %s; want %s, %s", got.FirstAnswer, got.Makespan, want.FirstAnswer, want.Makespan)
	}
	if !near(got.Throughput, want.Throughput) {
		t.Errorf("throughput = %v, want %v", got.Throughput, want.Throughput)
	}
	if !near(got.Over30s, want.Over30s) || !near(got.Over60s, want.Over60s) {
		t.Errorf("over 30s, 60s = %v, %v; want %v, %v", got.Over30s, got.Over60s, want.Over30s, want.Over60s)
	}
	if got.Capacity != want.Capacity || got.Timeout != want.Timeout {
		t.Errorf("params = %d, %s; want %d, %s", got.Capacity, got.Timeout, want.Capacity, want.Timeout)
	}
}

func TestComputeStatusCodesAndErrors(t *testing.T) {
	rs := vegeta.Results{
		res(0, time.Second, 200), res(0, time.Second, 200),
		res(0, time.Second, 503), res(0, time.Second, 503),
		res(0, time.Second, 413), res(0, time.Second, 0),
	}
	m := Compute(rs, Params{})
	wantCodes := map[string]int{"200": 2, "503": 2, "413": 1, "0": 1}
	if len(m.StatusCodes) != len(wantCodes) {
		t.Errorf("status codes = %v, want %v", m.StatusCodes, wantCodes)
	}
	for k, v := range wantCodes {
		if m.StatusCodes[k] != v {
			t.Errorf("status %s: got %d, want %d", k, m.StatusCodes[k], v)
		}
	}
	wantErrs := map[string]int{"Service Unavailable": 2, "Request Entity Too Large": 1, "connection refused": 1}
	for k, v := range wantErrs {
		if m.Errors[k] != v {
			t.Errorf("error %q: got %d, want %d (all: %v)", k, m.Errors[k], v, m.Errors)
		}
	}
}

func TestComputeServerHeaders(t *testing.T) {
	rs := vegeta.Results{
		res(0, time.Second, 200, contract.HeaderWorkerPID, "11", contract.HeaderQueueTime, "0s", contract.HeaderJobTime, "830.5ms"),
		res(0, time.Second, 200, contract.HeaderWorkerPID, "11", contract.HeaderQueueTime, "830ms", contract.HeaderJobTime, "800ms"),
		res(0, time.Second, 200, contract.HeaderWorkerPID, "12", contract.HeaderQueueTime, "1.5s", contract.HeaderJobTime, "900ms"),
		res(0, time.Second, 200, contract.HeaderWorkerPID, " 12 ", contract.HeaderQueueTime, "bogus", contract.HeaderJobTime, "-1s"),
		res(0, time.Second, 0), // no answer, no headers
	}
	m := Compute(rs, Params{})
	if m.Workers["11"] != 2 || m.Workers["12"] != 2 || len(m.Workers) != 2 {
		t.Errorf("workers = %v, want 11:2 12:2", m.Workers)
	}
	wantQ := Dist{Count: 3, Min: 0, Median: Duration(830 * time.Millisecond), P90: Duration(1500 * time.Millisecond), P99: Duration(1500 * time.Millisecond), Max: Duration(1500 * time.Millisecond), Mean: Duration(776666666)}
	if m.QueueTime != wantQ {
		t.Errorf("queue time = %+v\n want %+v", m.QueueTime, wantQ)
	}
	if m.JobTime.Count != 3 || m.JobTime.Median != Duration(830500*time.Microsecond) {
		t.Errorf("job time = %+v, want 3 values, median 830.5ms", m.JobTime)
	}
	if got := m.WorkerCounts(); len(got) != 2 || got[0] != 2 || got[1] != 2 {
		t.Errorf("WorkerCounts = %v, want [2 2]", got)
	}
}

func TestPercentile(t *testing.T) {
	s := []time.Duration{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	for _, tc := range []struct {
		q    float64
		want time.Duration
	}{{0.01, 1}, {0.1, 1}, {0.11, 2}, {0.5, 5}, {0.9, 9}, {0.91, 10}, {0.99, 10}, {1, 10}} {
		if got := Percentile(s, tc.q); got != tc.want {
			t.Errorf("Percentile(1..10, %v) = %d, want %d", tc.q, got, tc.want)
		}
	}
	if got := Percentile(nil, 0.5); got != 0 {
		t.Errorf("Percentile(nil) = %d, want 0", got)
	}
}

func TestDurationJSON(t *testing.T) {
	b, err := json.Marshal(struct{ D Duration }{Duration(830512 * time.Microsecond)})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), `{"D":"830.512ms"}`; got != want {
		t.Errorf("marshal = %s, want %s", got, want)
	}
	for _, tc := range []struct {
		in   string
		want Duration
		ok   bool
	}{
		{`"1.5s"`, Duration(1500 * time.Millisecond), true},
		{`1000`, Duration(1000), true},
		{`"soon"`, 0, false},
		{`true`, 0, false},
	} {
		var d Duration
		err := json.Unmarshal([]byte(tc.in), &d)
		if (err == nil) != tc.ok || (tc.ok && d != tc.want) {
			t.Errorf("unmarshal %s = %v, %v; want %v, ok=%v", tc.in, d, err, tc.want, tc.ok)
		}
	}
}
