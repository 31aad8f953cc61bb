package loadtest

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flipbench/flipbench/contract"
	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// delayServer answers every request after delay, all in parallel, with the
// flipbench headers; worker PIDs rotate over workers fake PIDs.
func delayServer(t *testing.T, delay time.Duration, workers int) *httptest.Server {
	t.Helper()
	var next atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
		pid := 1000 + int(next.Add(1)%int64(workers))
		w.Header().Set(contract.HeaderWorkerPID, strconv.Itoa(pid))
		w.Header().Set(contract.HeaderQueueTime, "0s")
		w.Header().Set(contract.HeaderJobTime, delay.String())
		w.Write([]byte(`{"ok":true}`))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func post(url string) vegeta.Target { return vegeta.Target{Method: http.MethodPost, URL: url} }

func TestBurstSendsExactlyNAtOnce(t *testing.T) {
	const delay = 100 * time.Millisecond
	for _, n := range []int{1, 7, 40} {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			srv := delayServer(t, delay, 1)
			rs, err := Burst(context.Background(), post(srv.URL), n, WithTimeout(10*time.Second))
			if err != nil {
				t.Fatal(err)
			}
			if got := len(rs); got != n {
				t.Fatalf("results = %d, want %d", got, n)
			}
			m := Compute(rs, Params{})
			if m.Successes != n {
				t.Errorf("successes = %d, want %d (codes %v, errors %v)", m.Successes, n, m.StatusCodes, m.Errors)
			}
			// A parallel server answers a burst in about one delay; a serial
			// one would take n delays. Half of that, at least 5 delays, proves
			// the requests ran at once, with room for a noisy, shared machine.
			limit := time.Duration(max(5, n/2)) * delay
			if m.Makespan.D() < delay || m.Makespan.D() > limit {
				t.Errorf("makespan = %s, want between %s and %s", m.Makespan, delay, limit)
			}
			seqs := map[uint64]bool{}
			for _, r := range rs {
				seqs[r.Seq] = true
			}
			if len(seqs) != n {
				t.Errorf("distinct sequence numbers = %d, want %d", len(seqs), n)
			}
		})
	}
}

func TestBurstUsesOneConnectionPerRequest(t *testing.T) {
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(20 * time.Millisecond) // a job's time (simulated work, not an ordering wait)
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	const n = 12
	if _, err := Burst(context.Background(), post(srv.URL), n); err != nil {
		t.Fatal(err)
	}
	if got := conns.Load(); got != n {
		t.Errorf("connections = %d, want %d (one per request)", got, n)
	}
}

func TestBurstPerWorkerCountsAddUp(t *testing.T) {
	srv := delayServer(t, 50*time.Millisecond, 3)
	const n = 25
	rs, err := Burst(context.Background(), post(srv.URL), n)
	if err != nil {
		t.Fatal(err)
	}
	m := Compute(rs, Params{})
	if len(m.Workers) != 3 {
		t.Errorf("workers = %v, want 3 distinct PIDs", m.Workers)
	}
	sum := 0
	for _, c := range m.Workers {
		sum += c
	}
	if sum != n {
		t.Errorf("per-worker counts %v add up to %d, want %d", m.Workers, sum, n)
	}
	if m.JobTime.Count != n || m.JobTime.Median.D() != 50*time.Millisecond {
		t.Errorf("job time = %+v, want %d answers of 50ms", m.JobTime, n)
	}
}

func TestBurstCountsErrorsInsteadOfFailing(t *testing.T) {
	var i atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if i.Add(1)%2 == 0 {
			w.Header().Set("Retry-After", "1")
			http.Error(w, `{"error":"queue full"}`, http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ok"))
	}))
	t.Cleanup(srv.Close)
	rs, err := Burst(context.Background(), post(srv.URL), 10)
	if err != nil {
		t.Fatalf("a burst with 503 answers failed: %v", err)
	}
	m := Compute(rs, Params{})
	if m.Successes != 5 || m.StatusCodes["503"] != 5 || m.StatusCodes["200"] != 5 {
		t.Errorf("successes %d, codes %v; want 5 × 200 and 5 × 503", m.Successes, m.StatusCodes)
	}
	if len(m.Errors) != 1 {
		t.Errorf("errors = %v, want one kind (503)", m.Errors)
	}

	// Nothing listens on a port we just closed: every request fails to connect.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String() + "/flip"
	ln.Close()
	rs, err = Burst(context.Background(), post(url), 5, WithTimeout(5*time.Second))
	if err != nil {
		t.Fatalf("a burst at a closed port failed: %v", err)
	}
	m = Compute(rs, Params{})
	if m.Requests != 5 || m.Successes != 0 || m.StatusCodes["0"] != 5 {
		t.Errorf("n %d, successes %d, codes %v; want 5 connection errors (code 0)", m.Requests, m.Successes, m.StatusCodes)
	}
	for e := range m.Errors {
		if !strings.Contains(e, "refused") {
			t.Errorf("error %q, want a refused connection", e)
		}
	}
}

func TestBurstCancelStopsRequestsInFlight(t *testing.T) {
	srv := delayServer(t, 10*time.Second, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	rs, err := Burst(ctx, post(srv.URL), 5, WithTimeout(time.Minute))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want the context's deadline", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("cancelled burst took %s, want it to return soon after the cancel", took)
	}
	if len(rs) != 5 {
		t.Errorf("results = %d, want the 5 aborted requests", len(rs))
	}
}

func TestBurstTimeoutIsCounted(t *testing.T) {
	srv := delayServer(t, 2*time.Second, 1)
	rs, err := Burst(context.Background(), post(srv.URL), 3, WithTimeout(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	m := Compute(rs, Params{})
	if m.Successes != 0 || m.StatusCodes["0"] != 3 {
		t.Errorf("successes %d, codes %v; want 3 timeouts", m.Successes, m.StatusCodes)
	}
}

func TestSustainKeepsTheRate(t *testing.T) {
	srv := delayServer(t, 10*time.Millisecond, 1)
	rs, err := Sustain(context.Background(), post(srv.URL), 50, 400*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	// 50/s for 0.4 s is 20 requests; the pacer may send one more or less.
	if len(rs) < 15 || len(rs) > 22 {
		t.Errorf("results = %d, want about 20", len(rs))
	}
}

func TestAttackInputErrors(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		run  func() error
		want string
	}{
		{"zero burst", func() error { _, err := Burst(ctx, post("http://127.0.0.1:1/"), 0); return err }, "at least 1"},
		{"remote host", func() error { _, err := Burst(ctx, post("http://example.com/flip"), 1); return err }, "not a loopback"},
		{"zero rate", func() error { _, err := Sustain(ctx, post("http://127.0.0.1:1/"), 0, time.Second); return err }, "rate must be positive"},
		{"zero duration", func() error { _, err := Sustain(ctx, post("http://127.0.0.1:1/"), 1, 0); return err }, "duration must be positive"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.run()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want one mentioning %q", err, tc.want)
			}
		})
	}
}

func TestCheckLoopback(t *testing.T) {
	for _, tc := range []struct {
		url string
		ok  bool
	}{
		{"http://127.0.0.1:3000/flip", true},
		{"http://127.1.2.3/flip", true},
		{"http://[::1]:3000/flip", true},
		{"http://localhost:3000/flip", true},
		{"https://LOCALHOST/", true},
		{"http://10.0.0.1:3000/flip", false},
		{"http://0.0.0.0:3000/flip", false},
		{"http://[::]:3000/", false},
		{"http://example.com/", false},
		{"http://localhost.example.com/", false},
		{"ftp://127.0.0.1/", false},
		{"127.0.0.1:3000", false},
		{"http:///flip", false},
		{"://bad", false},
	} {
		err := CheckLoopback(tc.url)
		if got := err == nil; got != tc.ok {
			t.Errorf("CheckLoopback(%q) = %v, want ok=%v", tc.url, err, tc.ok)
		}
	}
}

func TestCheckTargetRemote(t *testing.T) {
	for _, u := range []string{"http://10.0.0.1:3000/flip", "https://example.com/flip"} {
		if err := CheckTarget(u, false); err == nil {
			t.Errorf("CheckTarget(%q, false): no error, want one", u)
		}
		if err := CheckTarget(u, true); err != nil {
			t.Errorf("CheckTarget(%q, true) = %v, want nil", u, err)
		}
	}
	for _, u := range []string{"ftp://10.0.0.1/", "10.0.0.1:3000", "http:///flip"} {
		if err := CheckTarget(u, true); err == nil {
			t.Errorf("CheckTarget(%q, true): no error, want one", u)
		}
	}
}

func TestBurstPacer(t *testing.T) {
	p := burstPacer{n: 3}
	for hits, wantStop := range []bool{false, false, false, true, true} {
		wait, stop := p.Pace(time.Duration(hits)*time.Second, uint64(hits))
		if wait != 0 || stop != wantStop {
			t.Errorf("Pace(hits=%d) = (%s, %v), want (0s, %v)", hits, wait, stop, wantStop)
		}
	}
	if r := p.Rate(time.Second); r != 0 {
		t.Errorf("Rate = %v, want 0", r)
	}
}
