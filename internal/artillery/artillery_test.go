package artillery

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

var nodeApp = filepath.Join("..", "..", "nodeapp")

// needArtillery skips the test, with the reason, where Artillery cannot run.
func needArtillery(t *testing.T) {
	t.Helper()
	if _, err := Check(nodeApp); err != nil {
		t.Skipf("Artillery cannot run here: %v", err)
	}
}

// server answers the n-th request (from 0) by n % 5: 0-2 OK after 20 ms,
// 3 a 503, 4 never (until the client gives up). seen counts requests.
func server(t *testing.T) (string, *atomic.Int64) {
	t.Helper()
	var seen atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch (seen.Add(1) - 1) % 5 {
		case 4:
			<-r.Context().Done()
			return
		case 3:
			w.WriteHeader(http.StatusServiceUnavailable)
		default:
			time.Sleep(20 * time.Millisecond)
		}
		_, _ = w.Write([]byte("{}"))
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/flip", &seen
}

// tempFolders counts artillery.js's folders in the temp directory.
func tempFolders(t *testing.T) int {
	t.Helper()
	entries, err := os.ReadDir(os.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "flipbench-artillery-") {
			n++
		}
	}
	return n
}

func TestRun(t *testing.T) {
	needArtillery(t)
	url, seen := server(t)
	before := tempFolders(t)
	a, err := Run(t.Context(), nodeApp, Load{URL: url, Rate: 5, Duration: 2 * time.Second, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if a.Version != "1.7.9" || a.URL != url || a.Rate != 5 || a.Seconds != 2 || a.Timeout != 1 {
		t.Errorf("load echoed as %+v", a)
	}
	if seen.Load() != 10 || a.Requests != 10 {
		t.Fatalf("server saw %d, Artillery sent %d, want 10: %+v", seen.Load(), a.Requests, a)
	}
	if want := map[string]int{"200": 6, "503": 2}; !reflect.DeepEqual(a.Codes, want) {
		t.Errorf("codes %v, want %v", a.Codes, want)
	}
	if want := map[string]int{"ETIMEDOUT": 2}; !reflect.DeepEqual(a.Errors, want) {
		t.Errorf("errors %v, want %v", a.Errors, want)
	}
	if a.Answers != 6 || a.Throughput != 3 {
		t.Errorf("answers %d at %g/s, want 6 at 3/s", a.Answers, a.Throughput)
	}
	// The server holds every answer 20 ms or more (the 503s less), and an
	// answer later than the 1 s timeout would be an ETIMEDOUT.
	if !(a.P50 >= 20 && a.P50 <= a.P99 && a.P99 <= a.Max && a.Max < 1000) {
		t.Errorf("latency p50 %g, p99 %g, max %g ms", a.P50, a.P99, a.Max)
	}
	if n := tempFolders(t); n != before {
		t.Errorf("%d temp folders left behind", n-before)
	}
}

func TestRunCancelled(t *testing.T) {
	needArtillery(t)
	url, seen := server(t)
	before := tempFolders(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go func() {
		for seen.Load() == 0 && ctx.Err() == nil {
			time.Sleep(20 * time.Millisecond)
		}
		cancel()
	}()
	_, err := Run(ctx, nodeApp, Load{URL: url, Rate: 5, Duration: 5 * time.Minute})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want cancelled", err)
	}
	if n := tempFolders(t); n != before {
		t.Errorf("%d temp folders left behind", n-before)
	}
}

func TestCheck(t *testing.T) {
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node is not on the PATH")
	}
	app := t.TempDir()
	if err := os.WriteFile(filepath.Join(app, Script), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Check(app)
	if !errors.Is(err, ErrNotInstalled) || err.Error() != "artillery is not installed: run make build" {
		t.Errorf("without node_modules: %v", err)
	}
	if _, err := Run(t.Context(), app, Load{URL: "http://127.0.0.1:1/flip", Rate: 1, Duration: time.Second}); !errors.Is(err, ErrNotInstalled) {
		t.Errorf("Run without node_modules: %v", err)
	}
	if _, err := Check(t.TempDir()); err == nil || !strings.Contains(err.Error(), Script) {
		t.Errorf("without %s: %v", Script, err)
	}
	t.Setenv("PATH", t.TempDir())
	if _, err := Check(nodeApp); !errors.Is(err, ErrNoNode) || err.Error() != "node is not on the PATH" {
		t.Errorf("with no node: %v", err)
	}
}

func TestValidate(t *testing.T) {
	ok := Load{URL: "http://127.0.0.1:8080/flip", Rate: 20, Duration: 30 * time.Second}
	if err := ok.Validate(); err != nil {
		t.Fatalf("the article's load: %v", err)
	}
	for name, change := range map[string]func(*Load){
		"no scheme":     func(l *Load) { l.URL = "127.0.0.1:8080/flip" },
		"no host":       func(l *Load) { l.URL = "http:///flip" },
		"zero rate":     func(l *Load) { l.Rate = 0 },
		"negative rate": func(l *Load) { l.Rate = -1 },
		"no duration":   func(l *Load) { l.Duration = 0 },
		"no arrival":    func(l *Load) { l.Rate, l.Duration = 0.5, time.Second },
		"timeout":       func(l *Load) { l.Timeout = -time.Second },
	} {
		l := ok
		change(&l)
		err := l.Validate()
		if err == nil || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: err = %v, want one line", name, err)
		}
	}
}
