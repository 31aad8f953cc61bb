package server

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/flipbench/flipbench/contract"
	"github.com/flipbench/flipbench/listen"
)

// holdSlot takes a job slot from s's limiter, as a long job would, and returns
// its release; the slot is released at cleanup if the test has not done so.
func holdSlot(t *testing.T, s *Server) (release func()) {
	t.Helper()
	release, err := s.local.limiter.Acquire(context.Background())
	if err != nil {
		t.Fatalf("hold a slot: %v", err)
	}
	t.Cleanup(release) // release is idempotent
	return release
}

// result is the answer of a background request, or its transport error.
type result struct {
	a   answer
	err error
}

// goPost sends POST /flip with no body in the background; the result arrives on
// the channel.
func goPost(ctx context.Context, url string) <-chan result {
	ch := make(chan result, 1)
	go func() {
		a, err := do(ctx, http.MethodPost, url+"/flip", "", nil)
		ch <- result{a, err}
	}()
	return ch
}

// await waits for a background request; it fails the test after a generous deadline.
func await(t *testing.T, ch <-chan result) result {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(60 * time.Second):
		t.Fatal("request never answered")
		return result{}
	}
}

func TestQueueFull(t *testing.T) {
	s := newServer(t, Config{Capacity: 1, MaxQueue: 1})
	ts := start(t, s)

	release := holdSlot(t, s)
	queued := goPost(context.Background(), ts.URL)
	waitFor(t, "the request to queue", func() bool { return s.local.limiter.Queued() == 1 })

	if h := getHealth(t, ts.URL); h.InFlight != 1 || h.Queued != 1 {
		t.Errorf("healthz while full: in_flight=%d queued=%d, want 1 and 1", h.InFlight, h.Queued)
	}
	// The queue is full: an article request and an upload are both refused at once.
	for _, tt := range []struct {
		name  string
		ctype string
		body  []byte
	}{
		{"photo", "", nil},
		{"upload", "image/png", encodePNG(t, pattern(4, 4, 0))},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a := post(t, ts.URL, tt.ctype, tt.body)
			checkError(t, a, http.StatusServiceUnavailable)
			checkFlipHeaders(t, a)
			ra := a.header.Get("Retry-After")
			if secs, err := strconv.Atoi(ra); err != nil || secs < 1 {
				t.Errorf("Retry-After: got %q, want a whole number of seconds >= 1", ra)
			}
			if got := a.header.Get(contract.HeaderJobTime); got != "0s" {
				t.Errorf("%s: got %q, want \"0s\" (no job ran)", contract.HeaderJobTime, got)
			}
		})
	}

	release()
	r := await(t, queued)
	if r.err != nil || r.a.status != http.StatusOK {
		t.Fatalf("the queued request: status %d err %v (%s)", r.a.status, r.err, r.a.body)
	}
	checkFlipHeaders(t, r.a)
	if q, err := time.ParseDuration(r.a.header.Get(contract.HeaderQueueTime)); err != nil || q <= 0 {
		t.Errorf("%s of a request that waited: %q, want > 0", contract.HeaderQueueTime, r.a.header.Get(contract.HeaderQueueTime))
	}
	h := getHealth(t, ts.URL)
	if h.Done != 1 || h.Failed != 0 || h.InFlight != 0 || h.Queued != 0 {
		t.Errorf("healthz after: done=%d failed=%d in_flight=%d queued=%d, want 1 0 0 0", h.Done, h.Failed, h.InFlight, h.Queued)
	}
	// With room again, a new request is served.
	if a := post(t, ts.URL, "image/png", encodePNG(t, pattern(4, 4, 0))); a.status != http.StatusOK {
		t.Errorf("after the queue drained: status %d (%s)", a.status, a.body)
	}
}

// A client that goes away while its request waits for a slot leaves the queue,
// and its job never runs.
func TestClientGoneWhileQueued(t *testing.T) {
	s := newServer(t, Config{Capacity: 1, MaxQueue: 4})
	ts := start(t, s)
	finish := holdSlot(t, s)

	ctx, cancel := context.WithCancel(context.Background())
	gone := goPost(ctx, ts.URL)
	waitFor(t, "the second request to queue", func() bool { return s.local.limiter.Queued() == 1 })
	cancel()
	if r := await(t, gone); !errors.Is(r.err, context.Canceled) {
		t.Errorf("the cancelled request: got status %d err %v, want context.Canceled", r.a.status, r.err)
	}
	waitFor(t, "the cancelled request to leave the queue", func() bool { return s.local.limiter.Queued() == 0 })
	finish()
	waitFor(t, "the slot to be free", func() bool { return s.local.limiter.Running() == 0 })

	h := getHealth(t, ts.URL)
	if h.Done != 0 || h.Failed != 0 || h.InFlight != 0 || h.Queued != 0 {
		t.Errorf("healthz: done=%d failed=%d in_flight=%d queued=%d, want 0 0 0 0 (the gone client's job must not run)", h.Done, h.Failed, h.InFlight, h.Queued)
	}
	// The server still serves.
	if a := post(t, ts.URL, "image/png", encodePNG(t, pattern(5, 4, 0))); a.status != http.StatusOK {
		t.Errorf("after: status %d (%s)", a.status, a.body)
	}
	if h := getHealth(t, ts.URL); h.Done != 1 {
		t.Errorf("done after one more flip: got %d, want 1", h.Done)
	}
}

// serve runs s.Serve on a fresh listener on 127.0.0.1 in the background.
func serve(t *testing.T, s *Server, ctx context.Context) (url string, errc <-chan error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan error, 1)
	go func() { ch <- s.Serve(ctx, ln) }()
	return "http://" + ln.Addr().String(), ch
}

func awaitServe(t *testing.T, errc <-chan error) error {
	t.Helper()
	select {
	case err := <-errc:
		return err
	case <-time.After(60 * time.Second):
		t.Fatal("Serve never returned")
		return nil
	}
}

// Cancelling Serve's context stops it gracefully: requests already accepted, queued
// or running, still get their answer; then Serve returns nil and Close removes the
// work dir.
func TestServeGracefulShutdown(t *testing.T) {
	tests := []struct {
		name    string
		queued  bool // the request waits for a held slot, else its job runs
		timeout time.Duration
	}{
		{name: "request queued", queued: true},
		{name: "job running"},
		{name: "job running, with a shutdown timeout", timeout: 10 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := t.TempDir()
			s, err := New(Config{Image: smallPhoto, TempDir: base, Worker: -1, Capacity: 1, ShutdownTimeout: tt.timeout})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			url, errc := serve(t, s, ctx)

			// The server answers before the stop.
			if h := getHealth(t, url); h.PID != os.Getpid() {
				t.Errorf("healthz pid: got %d, want %d", h.PID, os.Getpid())
			}
			release := func() {}
			if tt.queued {
				release = holdSlot(t, s)
			}
			inflight := goPost(context.Background(), url)
			if tt.queued {
				waitFor(t, "the request to queue", func() bool { return s.local.limiter.Queued() == 1 })
			} else {
				waitFor(t, "the job to run", func() bool { return s.local.limiter.Running() == 1 })
			}
			cancel()

			// New connections are refused once the listener is closed.
			waitFor(t, "the listener to close", func() bool {
				c, err := net.DialTimeout("tcp", url[len("http://"):], time.Second)
				if err == nil {
					c.Close()
					return false
				}
				return true
			})
			if tt.queued {
				// Serve must still be waiting for the accepted request.
				select {
				case err := <-errc:
					t.Fatalf("Serve returned %v while an accepted request was still queued", err)
				case <-time.After(100 * time.Millisecond):
				}
				release()
			}

			r := await(t, inflight)
			if r.err != nil || r.a.status != http.StatusOK {
				t.Fatalf("the in-flight request: status %d err %v (%s)", r.a.status, r.err, r.a.body)
			}
			checkFlipHeaders(t, r.a)
			var fa FlipAnswer
			if err := json.Unmarshal(r.a.body, &fa); err != nil || fa.Bytes == 0 {
				t.Errorf("the in-flight request's answer: %s (%v)", r.a.body, err)
			}
			if err := awaitServe(t, errc); err != nil {
				t.Errorf("Serve after a clean stop: got %v, want nil", err)
			}
			assertEmptyWorkDir(t, s)
			if err := s.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
			if _, err := os.Stat(s.WorkDir()); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("work dir %s still there after Close (stat: %v)", s.WorkDir(), err)
			}
		})
	}
}

func TestServeStopsWhenIdle(t *testing.T) {
	s := newServer(t, Config{})
	ctx, cancel := context.WithCancel(context.Background())
	url, errc := serve(t, s, ctx)
	// A keep-alive connection left idle must not hold the stop up.
	a, err := do(context.Background(), http.MethodGet, url+"/", "", nil)
	if err != nil || a.status != http.StatusOK {
		t.Fatalf("GET /: status %d err %v", a.status, err)
	}
	cancel()
	if err := awaitServe(t, errc); err != nil {
		t.Errorf("Serve: got %v, want nil", err)
	}
}

// A stop that outlasts ShutdownTimeout is not clean: Serve says so.
func TestServeShutdownTimeout(t *testing.T) {
	s := newServer(t, Config{Capacity: 1, ShutdownTimeout: 50 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	url, errc := serve(t, s, ctx)
	release := holdSlot(t, s)
	stuck := goPost(context.Background(), url)
	waitFor(t, "the request to queue", func() bool { return s.local.limiter.Queued() == 1 })
	cancel()
	if err := awaitServe(t, errc); err == nil {
		t.Error("Serve after the shutdown timeout passed with a request in flight: got nil, want an error")
	}
	release()
	await(t, stuck) // its connection was closed by the forced stop
	waitFor(t, "the handler to finish", func() bool { return s.local.limiter.Queued() == 0 && s.local.limiter.Running() == 0 })
}

// Serve on a listener that fails reports the error instead of nil.
func TestServeListenerError(t *testing.T) {
	s := newServer(t, Config{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln.Close()
	errc := make(chan error, 1)
	go func() { errc <- s.Serve(context.Background(), ln) }()
	if err := awaitServe(t, errc); err == nil {
		t.Error("Serve on a closed listener: got nil, want an error")
	}
}

// A connection accepted before the stop whose request arrives after it is still
// answered: net/http's Shutdown alone would close it unanswered.
func TestServeAnswersRequestThatArrivesDuringStop(t *testing.T) {
	s := newServer(t, Config{})
	ctx, cancel := context.WithCancel(context.Background())
	url, errc := serve(t, s, ctx)
	conn, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// The first bytes make sure the server has accepted the connection; the rest
	// of the request comes after the stop began.
	if _, err := fmt.Fprint(conn, "POST /flip HTTP/1.1\r\n"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // time: no event says the server has read those bytes
	cancel()
	time.Sleep(100 * time.Millisecond) // time: the stop must have begun, and says nothing when
	if _, err := fmt.Fprint(conn, "Host: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("the request that arrived during the stop got no answer: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("status: got %d, want 200", resp.StatusCode)
	}
	if err := awaitServe(t, errc); err != nil {
		t.Errorf("Serve: %v", err)
	}
}

// A stop drains a listener that can drain: connections still in the kernel's
// queue when the stop begins (here held back by a full gate) are accepted and
// answered, not reset by a close.
func TestServeDrainsQueuedConnections(t *testing.T) {
	s := newServer(t, Config{Capacity: 1})
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := listen.New(inner, listen.Gated(1))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- s.Serve(ctx, ln) }()
	url := "http://" + inner.Addr().String()

	// One request holds the gate's only connection slot while its job waits.
	release := holdSlot(t, s)
	holder := goPost(context.Background(), url)
	waitFor(t, "the request to queue", func() bool { return s.local.limiter.Queued() == 1 })
	const n = 5
	queued := make([]net.Conn, n)
	for i := range queued {
		c, err := net.Dial("tcp", inner.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := fmt.Fprint(c, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		queued[i] = c
	}
	cancel()
	for i, c := range queued {
		c.SetDeadline(time.Now().Add(30 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatalf("queued connection %d: no answer: %v", i, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("queued connection %d: status %d, want 200", i, resp.StatusCode)
		}
	}
	release()
	if r := await(t, holder); r.err != nil || r.a.status != http.StatusOK {
		t.Errorf("the request holding the gate: status %d err %v", r.a.status, r.err)
	}
	if err := awaitServe(t, errc); err != nil {
		t.Errorf("Serve: %v", err)
	}
}
