package loadtest

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

// connKey carries a connection's number into its requests' context.
type connKey struct{}

// countingServer numbers each new connection from 0 and hands its number to
// handle; it returns the server and the count of connections opened.
func countingServer(t *testing.T, handle func(w http.ResponseWriter, r *http.Request, conn int64)) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		handle(w, r, r.Context().Value(connKey{}).(int64))
	}))
	srv.Config.ConnContext = func(ctx context.Context, _ net.Conn) context.Context {
		return context.WithValue(ctx, connKey{}, conns.Add(1)-1)
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, &conns
}

func TestKeepAliveEachClientKeepsOneConnection(t *testing.T) {
	srv, conns := countingServer(t, func(w http.ResponseWriter, _ *http.Request, _ int64) {
		time.Sleep(5 * time.Millisecond) // a job's time (simulated work)
		w.Header().Set("X-Worker-PID", "7")
	})
	l := Closed{Clients: 5, Requests: 4}
	rs, err := KeepAlive(context.Background(), post(srv.URL), l, WithTimeout(10*time.Second), WithName("ka"))
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 20 {
		t.Fatalf("results = %d, want 20", len(rs))
	}
	if got := conns.Load(); got != 5 {
		t.Errorf("connections = %d, want one per client (5)", got)
	}
	m := ComputeKeepAlive(rs, l)
	if m.Answers != 20 || m.Starved != 0 || m.Fairness != 1 || m.Errors != 0 {
		t.Errorf("answers %d, starved %d, fairness %v, errors %d; want 20, 0, 1, 0", m.Answers, m.Starved, m.Fairness, m.Errors)
	}
	for _, s := range m.PerClientStats {
		if s.Answers != 4 || s.Latency.Count != 4 {
			t.Errorf("client %d: %d answers (%d latencies), want 4", s.Client, s.Answers, s.Latency.Count)
		}
		// Each answer took the handler's 5 ms sleep at least.
		if s.Latency.Min.D() < 5*time.Millisecond {
			t.Errorf("client %d: fastest answer %s, want at least the handler's 5ms", s.Client, s.Latency.Min)
		}
	}
	for _, r := range rs {
		if r.End().Before(r.Timestamp.Add(5 * time.Millisecond)) {
			t.Errorf("result %d ends %s after its send, want at least 5ms", r.Seq, r.Latency)
		}
	}
	if m.Workers["7"] != 20 {
		t.Errorf("workers = %v, want 7:20", m.Workers)
	}
}

// TestKeepAliveSeesStarvedClients is the connection-counting gate in small:
// a server that serves only its first two connections and leaves every other
// waiting.
func TestKeepAliveSeesStarvedClients(t *testing.T) {
	srv, _ := countingServer(t, func(w http.ResponseWriter, r *http.Request, conn int64) {
		if conn >= 2 {
			<-r.Context().Done()
			return
		}
		time.Sleep(5 * time.Millisecond) // a job's time (simulated work)
	})
	l := Closed{Clients: 5, Duration: 300 * time.Millisecond}
	rs, err := KeepAlive(context.Background(), post(srv.URL), l, WithTimeout(10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	m := ComputeKeepAlive(rs, l)
	if m.Starved != 3 {
		t.Errorf("starved = %d, want 3 (answers per client %v)", m.Starved, m.AnswerCounts())
	}
	if m.Fairness != 0 {
		t.Errorf("fairness = %v, want 0 with a starved client", m.Fairness)
	}
	if m.Unfinished < 3 {
		t.Errorf("unfinished = %d, want at least the 3 starved clients' requests", m.Unfinished)
	}
	if m.Errors != 0 {
		t.Errorf("errors = %d, want 0: a request the run's end cut is unfinished, not failed", m.Errors)
	}
	if m.Answers == 0 || m.Throughput <= 0 {
		t.Errorf("answers %d, throughput %v: the two served clients should have answers", m.Answers, m.Throughput)
	}
}

func TestKeepAliveCountsClosedConnections(t *testing.T) {
	srv, conns := countingServer(t, func(w http.ResponseWriter, _ *http.Request, _ int64) {
		w.Header().Set("Connection", "close")
	})
	l := Closed{Clients: 2, Requests: 3}
	rs, err := KeepAlive(context.Background(), post(srv.URL), l, WithTimeout(10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	m := ComputeKeepAlive(rs, l)
	if m.Closes != 6 || m.Answers != 6 {
		t.Errorf("closes %d, answers %d; want 6 and 6", m.Closes, m.Answers)
	}
	if got := conns.Load(); got != 6 {
		t.Errorf("connections = %d, want a new one after every close (6)", got)
	}
}

func TestKeepAliveCancelled(t *testing.T) {
	srv, _ := countingServer(t, func(_ http.ResponseWriter, r *http.Request, _ int64) {
		<-r.Context().Done()
	})
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	_, err := KeepAlive(ctx, post(srv.URL), Closed{Clients: 3, Requests: 1}, WithTimeout(time.Minute))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestClosedValidate(t *testing.T) {
	for _, l := range []Closed{
		{Clients: 0, Requests: 1},
		{Clients: MaxClients + 1, Requests: 1},
		{Clients: 1},
		{Clients: 1, Requests: 1, Duration: time.Second},
		{Clients: 1, Requests: -1},
	} {
		if err := l.Validate(); err == nil {
			t.Errorf("%+v: no error", l)
		}
	}
	if _, err := KeepAlive(context.Background(), post("http://192.0.2.1/flip"), Closed{Clients: 1, Requests: 1}); err == nil {
		t.Error("a target that is not loopback was accepted")
	}
}

func TestKeepAliveFilesReadBack(t *testing.T) {
	srv, _ := countingServer(t, func(http.ResponseWriter, *http.Request, int64) {})
	l := Closed{Clients: 3, Requests: 2}
	rs, err := KeepAlive(context.Background(), post(srv.URL), l, WithName("x"))
	if err != nil {
		t.Fatal(err)
	}
	m := ComputeKeepAlive(rs, l)
	dir := t.TempDir()
	if err := WriteKeepAlive(dir, KeepAliveName(3), rs, m); err != nil {
		t.Fatal(err)
	}
	back, err := ReadResults(filepath.Join(dir, KeepAliveName(3)+SuffixResults))
	if err != nil {
		t.Fatal(err)
	}
	again := ComputeKeepAlive(back, l)
	if got, want := again.AnswerCounts(), m.AnswerCounts(); len(got) != 3 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Errorf("answers per client read back = %v, want %v", got, want)
	}
	var stored KeepAliveMetrics
	if err := ReadJSON(filepath.Join(dir, KeepAliveName(3)+SuffixMetrics), &stored); err != nil {
		t.Fatal(err)
	}
	if stored.Answers != 6 || len(stored.PerClientStats) != 3 {
		t.Errorf("stored metrics: %d answers, %d clients; want 6 and 3", stored.Answers, len(stored.PerClientStats))
	}
}
