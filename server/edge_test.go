package server

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// Every /flip answer, errors included, carries the four headers.
func TestWrongMethodOnFlipHasHeaders(t *testing.T) {
	ts := start(t, newServer(t, Config{}))
	for _, m := range []string{http.MethodGet, http.MethodPut} {
		a, err := do(context.Background(), m, ts.URL+"/flip", "", nil)
		if err != nil {
			t.Fatal(err)
		}
		checkError(t, a, http.StatusMethodNotAllowed)
		for _, h := range flipHeaders {
			if a.header.Get(h) == "" {
				t.Errorf("%s /flip: no %s header", m, h)
			}
		}
	}
}

// Queue and job time are 0s when no job ran; a 503 ran no job.
func TestQueueFullQueueTimeIsZero(t *testing.T) {
	s := newServer(t, Config{Capacity: 1, MaxQueue: 1})
	ts := start(t, s)
	release := holdSlot(t, s)
	q := goPost(context.Background(), ts.URL)
	waitFor(t, "the request to queue", func() bool { return s.limiter.Queued() == 1 })
	a := post(t, ts.URL, "", nil)
	checkError(t, a, http.StatusServiceUnavailable)
	if got := a.header.Get(HeaderQueueTime); got != "0s" {
		t.Errorf("503 %s: got %q, want \"0s\" (no job ran)", HeaderQueueTime, got)
	}
	release()
	await(t, q)
}

type lockedBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}
func (l *lockedBuf) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

// A client that goes away is no server failure.
func TestClientGoneIsNotAServerError(t *testing.T) {
	var logs lockedBuf
	s := newServer(t, Config{Capacity: 1, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	ts := start(t, s)
	release := holdSlot(t, s)
	ctx, cancel := context.WithCancel(context.Background())
	q := goPost(ctx, ts.URL)
	waitFor(t, "the request to queue", func() bool { return s.limiter.Queued() == 1 })
	cancel()
	await(t, q)
	waitFor(t, "the request to leave", func() bool { return s.limiter.Queued() == 0 })
	release()
	ts.Close() // waits for the handler
	if out := logs.String(); strings.Contains(out, "level=ERROR") {
		t.Errorf("a client that went away was logged as a server error:\n%s", out)
	}
}

// Every answer, not only /flip's, names the process that gave it.
func TestEveryAnswerHasWorkerPID(t *testing.T) {
	ts := start(t, newServer(t, Config{}))
	for _, path := range []string{"/", "/healthz", "/nope"} {
		a, err := do(context.Background(), http.MethodGet, ts.URL+path, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := a.header.Get(HeaderWorkerPID), strconv.Itoa(os.Getpid()); got != want {
			t.Errorf("GET %s: %s got %q, want %q", path, HeaderWorkerPID, got, want)
		}
	}
}
