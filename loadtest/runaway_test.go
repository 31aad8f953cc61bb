package loadtest

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// refusedURL returns a loopback URL where nothing listens: connections to it
// are refused.
func refusedURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	return "http://" + addr + "/flip"
}

// Against a refused port, 10 clients for 10 s back off (a bounded number of
// attempts, computed from the policy) and the run ends as server gone.
func TestKeepAliveRefusedBacksOffAndEndsGone(t *testing.T) {
	const clients = 10
	l := Closed{Clients: clients, Duration: 10 * time.Second}
	var attempts atomic.Int64
	_, err := KeepAlive(context.Background(), post(refusedURL(t)), l, WithoutResults(), WithGoneAfter(DefaultGoneAfter),
		WithOnResult(func(*vegeta.Result) { attempts.Add(1) }))
	if !errors.Is(err, ErrServerGone) {
		t.Fatalf("err = %v, want ErrServerGone", err)
	}
	if got := StoppedReason(err); got != StoppedGone {
		t.Errorf("StoppedReason = %q, want %q", got, StoppedGone)
	}
	bound := int64(clients * DefaultBackoff().MaxAttempts(l.Duration))
	if n := attempts.Load(); n < clients || n > bound {
		t.Errorf("attempts = %d, want between %d and the backoff's bound %d", n, clients, bound)
	}
}

// A server that dies mid-run ends the run early, with what it answered.
func TestKeepAliveServerDiesMidRun(t *testing.T) {
	srv := delayServer(t, time.Millisecond, 4)
	var answers atomic.Int64
	onResult := func(r *vegeta.Result) {
		if r.Code == http.StatusOK && answers.Add(1) == 20 {
			go srv.Close()
		}
	}
	l := Closed{Clients: 3, Duration: time.Hour}
	_, err := KeepAlive(context.Background(), post(srv.URL), l, WithoutResults(), WithOnResult(onResult),
		WithGoneAfter(300*time.Millisecond), WithTimeout(10*time.Second))
	if !errors.Is(err, ErrServerGone) {
		t.Fatalf("err = %v, want ErrServerGone", err)
	}
	if answers.Load() < 20 {
		t.Errorf("answers = %d, want the 20 before the server died", answers.Load())
	}
}

// A slow server that answers is not gone, however long its answers take.
func TestKeepAliveSlowServerIsNotGone(t *testing.T) {
	srv := delayServer(t, 200*time.Millisecond, 1)
	l := Closed{Clients: 3, Requests: 2}
	rs, err := KeepAlive(context.Background(), post(srv.URL), l, WithGoneAfter(50*time.Millisecond), WithTimeout(10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if m := ComputeKeepAlive(rs, l); m.Answers != 6 || m.ConnErrors != 0 {
		t.Errorf("answers %d, connection errors %d; want 6 and 0", m.Answers, m.ConnErrors)
	}
}

// Cancelling the context of a rate attack with a reason stops it at once;
// what it measured comes back with the reason.
func TestSustainStopsOnCancel(t *testing.T) {
	srv := delayServer(t, time.Millisecond, 4)
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	var n atomic.Int64
	rs, err := Sustain(ctx, post(srv.URL), 200, time.Hour, WithOnResult(func(*vegeta.Result) {
		if n.Add(1) == 10 {
			cancel(Stop("memory"))
		}
	}))
	if got := StoppedReason(err); got != "memory" {
		t.Errorf("StoppedReason(%v) = %q, want memory", err, got)
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want a cancellation", err)
	}
	// An hour at 200/s is 720,000; stopping at once leaves the 10 and the
	// few sent since.
	if len(rs) < 10 || len(rs) > 1000 {
		t.Errorf("results = %d, want 10 and the few in flight", len(rs))
	}
}

// Cancelling a keep-alive run with a reason stops it and says why.
func TestKeepAliveStopsOnCancel(t *testing.T) {
	srv := delayServer(t, time.Millisecond, 4)
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	var n atomic.Int64
	_, err := KeepAlive(ctx, post(srv.URL), Closed{Clients: 2, Duration: time.Hour}, WithoutResults(),
		WithOnResult(func(*vegeta.Result) {
			if n.Add(1) == 10 {
				cancel(Stop("memory"))
			}
		}))
	if got := StoppedReason(err); got != "memory" {
		t.Errorf("StoppedReason(%v) = %q, want memory", err, got)
	}
}

// A rate attack at a refused port ends as server gone.
func TestSustainRefusedEndsGone(t *testing.T) {
	rs, err := Sustain(context.Background(), post(refusedURL(t)), 50, time.Hour, WithGoneAfter(200*time.Millisecond))
	if !errors.Is(err, ErrServerGone) {
		t.Fatalf("err = %v, want ErrServerGone", err)
	}
	if len(rs) == 0 {
		t.Error("no results: the refused attempts should be there")
	}
}

func TestBackoff(t *testing.T) {
	b := DefaultBackoff()
	for k, want := range []time.Duration{10, 20, 40, 80, 160, 320, 640, 1000, 1000} {
		want *= time.Millisecond
		for range 50 {
			if w := b.Wait(k); w < want/2 || w > want {
				t.Fatalf("Wait(%d) = %s, want within [%s, %s]", k, w, want/2, want)
			}
		}
	}
	// In 10 s at the shortest waits: 1 + 7 waits (5+10+...+320 ms = 635 ms),
	// then one every 500 ms in the 9.365 s left: 18 more.
	if got := b.MaxAttempts(10 * time.Second); got != 26 {
		t.Errorf("MaxAttempts(10s) = %d, want 26", got)
	}
	if got := (Backoff{}).MaxAttempts(time.Second); got != -1 {
		t.Errorf("no backoff: MaxAttempts = %d, want -1 (no bound)", got)
	}
}

func TestGoneWatch(t *testing.T) {
	w := newGoneWatch(2, time.Second)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	if w.saw(0, true, false, at(0)) || w.saw(0, true, false, at(5000)) {
		t.Fatal("gone while client 1 has not failed")
	}
	if w.saw(1, true, false, at(5000)) || w.saw(1, true, false, at(5999)) {
		t.Fatal("gone before every client failed for a second")
	}
	if w.saw(0, false, true, at(6000)) {
		t.Fatal("gone after an answer")
	}
	if w.saw(0, true, false, at(6100)) || !w.saw(1, true, false, at(7100)) {
		t.Fatal("not gone a second after every client failed again")
	}
	// A timeout is neither: the client stays failing.
	if !w.saw(1, false, false, at(7200)) {
		t.Fatal("a timeout cleared the failing state")
	}
	w2 := newGoneWatch(2, time.Second)
	w2.saw(0, true, false, at(0))
	w2.done(1, at(100))
	if !w2.saw(0, true, false, at(1100)) {
		t.Fatal("a finished client kept the run from ending as gone")
	}
}

func TestIsConnError(t *testing.T) {
	for text, want := range map[string]bool{
		`Post "http://127.0.0.1:1/flip": dial tcp 127.0.0.1:1: connect: connection refused`:                             true,
		`Post "http://127.0.0.1:3000/flip": read tcp 127.0.0.1:5->127.0.0.1:3000: read: connection reset by peer`:       true,
		`Post "http://127.0.0.1:3000/flip": EOF`:                                                                        true,
		`Post "http://127.0.0.1:3000/flip": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`: false,
		`Post "http://127.0.0.1:3000/flip": dial tcp 127.0.0.1:3000: i/o timeout`:                                       false,
		"503 Service Unavailable": false,
		ErrUnfinished:             false,
		"":                        false,
	} {
		if got := IsConnError(text); got != want {
			t.Errorf("IsConnError(%q) = %v, want %v", text, got, want)
		}
	}
}

// A server that dies mid-way through a rate attack ends it early.
func TestSustainServerDiesMidRun(t *testing.T) {
	srv := delayServer(t, time.Millisecond, 4)
	var answers atomic.Int64
	_, err := Sustain(context.Background(), post(srv.URL), 100, time.Hour, WithoutResults(),
		WithGoneAfter(300*time.Millisecond), WithTimeout(10*time.Second),
		WithOnResult(func(r *vegeta.Result) {
			if r.Code == http.StatusOK && answers.Add(1) == 20 {
				go srv.Close()
			}
		}))
	if !errors.Is(err, ErrServerGone) {
		t.Fatalf("err = %v, want ErrServerGone", err)
	}
}
