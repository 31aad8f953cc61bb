package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"syscall"
	"testing"
	"time"

	"github.com/flipbench/flipbench/internal/syncbuf"
	"github.com/flipbench/flipbench/internal/testproc"
)

// envServe makes the test binary run the command itself, with its
// arguments: a test can then freeze and signal a real standard process.
const envServe = "STANDARD_TEST_SERVE"

func TestMain(m *testing.M) {
	if os.Getenv(envServe) != "" {
		if err := run(os.Args[1:]); err != nil {
			fmt.Fprintln(os.Stderr, "standard:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

var servingRE = regexp.MustCompile(`msg=serving .*addr=(\S+)`)

// startStandard runs this test binary as the standard server on the 1 MP
// photo, with extra flags, and returns its pid, its address (from its log) and
// a channel that gets cmd.Wait's result; the server is killed when the test
// ends.
func startStandard(t *testing.T, extra ...string) (pid int, addr string, exited chan error) {
	t.Helper()
	out := &syncbuf.Buffer{}
	args := append([]string{"-addr", "127.0.0.1:0", "-image", "../../testdata/photo-1mp.jpg", "-tmpdir", t.TempDir()}, extra...)
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), envServe+"=1", "GORACE=atexit_sleep_ms=0")
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited = make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	pid = cmd.Process.Pid
	t.Cleanup(func() {
		syscall.Kill(pid, syscall.SIGKILL)
		err := <-exited
		exited <- err // for a test still reading it
		if t.Failed() {
			t.Logf("output:\n%s", out)
		}
	})
	testproc.WaitFor(t, 10*time.Second, "the server's address in its log", func() bool {
		if m := servingRE.FindStringSubmatch(out.String()); m != nil {
			addr = m[1]
		}
		return addr != ""
	})
	return pid, addr, exited
}

// TestSIGTERMDrainsAcceptQueue checks that a SIGTERM answers every connection
// already queued in the kernel, not only those the server had accepted. The
// server is frozen (SIGSTOP) while the clients connect, so every connection
// is in the accept queue, none accepted, when SIGTERM arrives.
func TestSIGTERMDrainsAcceptQueue(t *testing.T) {
	pid, addr, exited := startStandard(t)

	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	// The kernel completes the handshakes of a stopped process's listener.
	const n = 2000
	conns := make([]net.Conn, 0, n)
	for range n {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatalf("connect to the stopped server: %v", err)
		}
		defer c.Close()
		if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(pid, syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}

	var answered int
	var firstErr error
	for i, c := range conns {
		c.SetDeadline(time.Now().Add(30 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				err = fmt.Errorf("status %d, want 200", resp.StatusCode)
			}
		}
		if err != nil {
			if firstErr == nil {
				firstErr = fmt.Errorf("connection %d: %w", i, err)
			}
			continue
		}
		answered++
	}
	if answered != n {
		t.Errorf("%d of %d queued connections answered; first failure: %v", answered, n, firstErr)
	}
	select {
	case err := <-exited:
		exited <- err // for the cleanup
		if err != nil {
			t.Errorf("server exit after SIGTERM: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("server still running 30s after SIGTERM")
	}
}
