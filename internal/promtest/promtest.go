// Package promtest runs a real prometheus server for tests: on loopback,
// with a temp config and storage, stopped by PID when the test ends.
package promtest

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/common/model"

	"github.com/flipbench/flipbench/internal/spawn"
	"github.com/flipbench/flipbench/internal/syncbuf"
	"github.com/flipbench/flipbench/internal/testproc"
)

// Prometheus is a real prometheus server a test started on loopback.
type Prometheus struct {
	URL    string // http://127.0.0.1:PORT
	PID    int
	Dir    string // its config and storage, removed with the test's temp dir
	client *http.Client
	out    *syncbuf.Buffer
}

// Start runs the prometheus binary on PATH with config (a
// prometheus.yml's text; relative paths in it resolve against Dir, where
// files may hold what it names) and a fresh storage dir, on a free
// 127.0.0.1 port, and waits until its API answers. It skips t when there is
// no prometheus binary. Cleanup stops it by PID (SIGTERM, then SIGKILL) and
// checks it is gone; the kernel kills it too if the test process dies.
func Start(t testing.TB, config string, files map[string]string) *Prometheus {
	t.Helper()
	bin, err := exec.LookPath("prometheus")
	if err != nil {
		t.Skip("no prometheus on PATH (Debian: apt-get install prometheus): the real-Prometheus test cannot run")
	}
	dir := t.TempDir()
	files = maps.Clone(files)
	if files == nil {
		files = map[string]string{}
	}
	files["prometheus.yml"] = config
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			t.Fatalf("prometheus: %v", err)
		}
	}
	// Another process may take the port between our probe and prometheus's
	// bind: that start fails at once, so try a few ports.
	const tries = 3
	for try := 1; ; try++ {
		p, err := startPrometheus(t, bin, dir)
		if err == nil {
			return p
		}
		if try == tries {
			t.Fatalf("start prometheus: %v", err)
		}
		t.Logf("start prometheus (try %d of %d): %v", try, tries, err)
	}
}

func startPrometheus(t testing.TB, bin, dir string) (*Prometheus, error) {
	addr, err := freeLoopbackAddr()
	if err != nil {
		return nil, err
	}
	out := &syncbuf.Buffer{}
	cmd := exec.Command(bin,
		"--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--storage.tsdb.retention.time=1h",
		"--web.listen-address="+addr,
		"--log.level=warn",
	)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	sp := spawn.New()
	if err := sp.Start(cmd); err != nil {
		sp.Close()
		return nil, err
	}
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		close(exited)
		sp.Close()
	}()
	stop := func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			t.Errorf("prometheus %d ignored SIGTERM for 10s: killing it", cmd.Process.Pid)
			cmd.Process.Kill()
			<-exited
		}
	}
	p := &Prometheus{URL: "http://" + addr, PID: cmd.Process.Pid, Dir: dir, client: &http.Client{Timeout: 10 * time.Second}, out: out}
	ready := testproc.Poll(30*time.Second, func() bool {
		select {
		case <-exited:
			return true
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_, _, err := p.Query(ctx, "1")
		return err == nil
	})
	select {
	case <-exited:
		return nil, fmt.Errorf("prometheus exited at start:\n%s", out)
	default:
	}
	if !ready {
		stop()
		return nil, fmt.Errorf("prometheus API not answering within 30s:\n%s", out)
	}
	t.Cleanup(func() {
		stop()
		if testproc.Alive(cmd.Process.Pid) {
			t.Errorf("prometheus %d outlived the test", cmd.Process.Pid)
		}
		if t.Failed() {
			t.Logf("prometheus output:\n%s", out)
		}
	})
	return p, nil
}

func freeLoopbackAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("free port: %w", err)
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// queryAnswer is the envelope of Prometheus's HTTP API.
type queryAnswer struct {
	Status    string   `json:"status"`
	Error     string   `json:"error"`
	ErrorType string   `json:"errorType"`
	Warnings  []string `json:"warnings"`
	Data      struct {
		ResultType string          `json:"resultType"`
		Result     json.RawMessage `json:"result"`
	} `json:"data"`
}

// Query evaluates expr now through /api/v1/query and returns the result's
// type and its JSON. Warnings count as errors: a dashboard query that
// Prometheus warns about is a query to fix.
func (p *Prometheus) Query(ctx context.Context, expr string) (resultType string, result json.RawMessage, err error) {
	u := p.URL + "/api/v1/query?" + url.Values{"query": {expr}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", nil, fmt.Errorf("query %q: %w", expr, err)
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return "", nil, fmt.Errorf("query %q: %w", expr, err)
	}
	defer resp.Body.Close()
	var a queryAnswer
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil {
		return "", nil, fmt.Errorf("query %q: status %d, %w", expr, resp.StatusCode, err)
	}
	if a.Status != "success" {
		return "", nil, fmt.Errorf("query %q: %s: %s", expr, a.ErrorType, a.Error)
	}
	if len(a.Warnings) > 0 {
		return "", nil, fmt.Errorf("query %q: warnings %v", expr, a.Warnings)
	}
	return a.Data.ResultType, a.Data.Result, nil
}

// Vector evaluates expr now and returns its samples; a result that is not
// an instant vector is an error.
func (p *Prometheus) Vector(ctx context.Context, expr string) (model.Vector, error) {
	typ, raw, err := p.Query(ctx, expr)
	if err != nil {
		return nil, err
	}
	if typ != model.ValVector.String() {
		return nil, fmt.Errorf("query %q: a %s, not an instant vector", expr, typ)
	}
	var vec model.Vector
	if err := json.Unmarshal(raw, &vec); err != nil {
		return nil, fmt.Errorf("query %q: %w", expr, err)
	}
	return vec, nil
}

// WaitVector evaluates expr every 200 ms (a fraction of a 1 s scrape)
// until it returns at least one sample, and fails t after d.
func (p *Prometheus) WaitVector(t testing.TB, d time.Duration, expr string) model.Vector {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		vec, err := p.Vector(ctx, expr)
		cancel()
		if err == nil && len(vec) > 0 {
			return vec
		}
		if time.Now().After(deadline) {
			t.Fatalf("prometheus: no sample of %s within %v (last error: %v)", expr, d, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
