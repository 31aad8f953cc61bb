package server

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/flipbench/flipbench/contract"
	"github.com/flipbench/flipbench/internal/syncbuf"
	"github.com/flipbench/flipbench/job"
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
	waitFor(t, "the request to queue", func() bool { return s.local.limiter.Queued() == 1 })
	a := post(t, ts.URL, "", nil)
	checkError(t, a, http.StatusServiceUnavailable)
	if got := a.header.Get(contract.HeaderQueueTime); got != "0s" {
		t.Errorf("503 %s: got %q, want \"0s\" (no job ran)", contract.HeaderQueueTime, got)
	}
	release()
	await(t, q)
}

// A client that goes away is no server failure.
func TestClientGoneIsNotAServerError(t *testing.T) {
	var logs syncbuf.Buffer
	s := newServer(t, Config{Capacity: 1, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	ts := start(t, s)
	release := holdSlot(t, s)
	ctx, cancel := context.WithCancel(context.Background())
	q := goPost(ctx, ts.URL)
	waitFor(t, "the request to queue", func() bool { return s.local.limiter.Queued() == 1 })
	cancel()
	await(t, q)
	waitFor(t, "the request to leave", func() bool { return s.local.limiter.Queued() == 0 })
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
		if got, want := a.header.Get(contract.HeaderWorkerPID), strconv.Itoa(os.Getpid()); got != want {
			t.Errorf("GET %s: %s got %q, want %q", path, contract.HeaderWorkerPID, got, want)
		}
	}
}

// The photo is the server's own: when it goes bad under a running server, that is
// the server's fault (500), not the client's (400).
func TestBrokenPhotoIsAServerError(t *testing.T) {
	dir := t.TempDir()
	photo := filepath.Join(dir, "photo.jpg")
	good, err := os.ReadFile(smallPhoto)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(photo, good, 0o600); err != nil {
		t.Fatal(err)
	}
	s := newServer(t, Config{Image: photo})
	ts := start(t, s)
	if err := os.WriteFile(photo, good[:len(good)/4], 0o600); err != nil {
		t.Fatal(err)
	}
	a := post(t, ts.URL, "", nil)
	if a.status != http.StatusInternalServerError {
		t.Errorf("status: got %d, want 500 (%s)", a.status, a.body)
	}
	assertEmptyWorkDir(t, s)
}

// A photo whose name gives no format imaging can save is refused at start.
func TestNewRejectsPhotoWithoutKnownExtension(t *testing.T) {
	photo := filepath.Join(t.TempDir(), "photo")
	if err := os.WriteFile(photo, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := New(Config{Image: photo, TempDir: t.TempDir()}); !errors.Is(err, job.ErrFormat) {
		t.Fatalf("got %v, want job.ErrFormat", err)
	}
}

// A body that announces more than the limit is refused before it is read.
func TestDeclaredLengthOverLimit(t *testing.T) {
	s := newServer(t, Config{MaxBody: 1000})
	ts := start(t, s)
	req, err := http.NewRequest(http.MethodPost, ts.URL+"/flip", strings.NewReader(strings.Repeat("x", 2000)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "image/png")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("status: got %d, want 413", resp.StatusCode)
	}
}

// A client that cuts its body short made the mistake: 400, not 500.
func TestTruncatedBodyIsAClientError(t *testing.T) {
	s := newServer(t, Config{})
	ts := start(t, s)
	conn, err := net.Dial("tcp", strings.TrimPrefix(ts.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// Announce 100 bytes, send 10, then close the writing side.
	fmt.Fprintf(conn, "POST /flip HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\nContent-Length: 100\r\n\r\n0123456789")
	if err := conn.(*net.TCPConn).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("read answer: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("status: got %d, want 400", resp.StatusCode)
	}
}
