package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/flipbench/flipbench/loadtest"
)

// maxDriverRSS is the most resident memory the driver may reach against a
// dead server (it reached 400 MB in 10 s before it backed off and streamed).
const maxDriverRSS = 100 << 20

// refusedAddr returns a loopback host:port where nothing listens: a test
// server's, once closed.
func refusedAddr() string {
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()
	return srv.Listener.Addr().String()
}

// Against a port where nothing listens, `loadtest attack -clients 10
// -duration 10s`, run as its own process, backs off (a bounded number of
// attempts), ends early as server gone and stays small.
func TestAttackRefusedPortStaysBounded(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	addr := refusedAddr()
	out := t.TempDir()
	// Twice the gone-after time (10 s): the run must end early to pass.
	const clients, duration = 10, 2 * loadtest.DefaultGoneAfter
	cmd := exec.Command(exe, "attack", "-url", "http://"+addr+"/flip", "-clients", fmt.Sprint(clients), "-duration", duration.String(),
		"-out", out, "-format", "json")
	cmd.Env = append(os.Environ(), envRunLoadtest+"=1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != exitFailure {
		t.Fatalf("exit: %v, want code %d; stderr:\n%s", err, exitFailure, stderr.String())
	}
	if want := "server gone: no answer from " + addr + " for 5s"; !bytes.Contains(stderr.Bytes(), []byte(want)) {
		t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
	}
	var m loadtest.KeepAliveMetrics
	if err := json.Unmarshal(stdout.Bytes(), &m); err != nil {
		t.Fatalf("metrics: %v\n%s", err, stdout.String())
	}
	bound := clients * loadtest.DefaultBackoff().MaxAttempts(duration)
	if m.Requests < clients || m.Requests > bound || m.ConnErrors != m.Requests {
		t.Errorf("%d attempts, %d connection errors; want between %d and the backoff's bound %d, all refused",
			m.Requests, m.ConnErrors, clients, bound)
	}
	if m.Stopped != loadtest.StoppedGone {
		t.Errorf("stopped = %q, want %q", m.Stopped, loadtest.StoppedGone)
	}
	rs, err := loadtest.ReadResults(filepath.Join(out, loadtest.KeepAliveName(clients)+loadtest.SuffixResults))
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != m.Requests {
		t.Errorf("the .bin holds %d results, the metrics count %d", len(rs), m.Requests)
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		t.Fatal("no rusage for the driver")
	}
	t.Logf("driver: %d attempts, peak RSS %d KiB", m.Requests, ru.Maxrss)
	if rss := ru.Maxrss << 10; rss > maxDriverRSS {
		t.Errorf("driver peak RSS %d MiB, want under %d MiB", rss>>20, maxDriverRSS>>20)
	}
}
