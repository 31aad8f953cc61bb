package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flipbench/flipbench/contract"
	"github.com/flipbench/flipbench/loadtest"
	"github.com/flipbench/flipbench/runfolder"
	"github.com/flipbench/flipbench/server/servertest"
)

// TestMain lets the test binary double as the fake server binaries.
func TestMain(m *testing.M) {
	servertest.RunIfServer()
	servertest.RunIfForeign()
	if os.Getenv(envRunLoadtest) == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// runCLI runs the command line and returns its exit code and output.
func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func flipServer(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(30 * time.Millisecond) // a job's time (simulated work)
		w.Header().Set(contract.HeaderWorkerPID, "42")
		w.Header().Set(contract.HeaderQueueTime, "0s")
		w.Header().Set(contract.HeaderJobTime, "30ms")
		w.Write([]byte(`{"pid":42}`))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestUsage(t *testing.T) {
	for _, tc := range []struct {
		args   []string
		code   int
		output string
	}{
		{nil, exitUsage, "Usage:"},
		{[]string{"help"}, exitOK, "loadtest attack"},
		{[]string{"-h"}, exitOK, "loadtest bench"},
		{[]string{"smash"}, exitUsage, `unknown command "smash"`},
		{[]string{"attack", "-h"}, exitOK, "Fires one burst of -n POSTs"},
		{[]string{"bench", "-h"}, exitOK, "clustered          a master and one worker process per core"},
		{[]string{"report", "-h"}, exitOK, "Usage: loadtest report"},
		{[]string{"balance", "-h"}, exitOK, "The balance experiment"},
		{[]string{"balance", "-h"}, exitOK, "reuseport  mode clustered"},
		{[]string{"bench", "-h"}, exitOK, "-workload hello measures the dispatch cost"},
		{[]string{"compare", "-h"}, exitOK, "Usage: loadtest compare"},
		{[]string{"crosscheck", "-h"}, exitOK, "Checks the project's keep-alive clients against autocannon"},
	} {
		code, stdout, stderr := runCLI(t, tc.args...)
		if code != tc.code || !strings.Contains(stdout+stderr, tc.output) {
			t.Errorf("loadtest %q: exit %d, want %d; output lacks %q:\n%s%s", tc.args, code, tc.code, tc.output, stdout, stderr)
		}
	}
}

func TestBadFlags(t *testing.T) {
	img := filepath.Join(t.TempDir(), "photo.jpg")
	if err := os.WriteFile(img, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"attack", "-n", "0"}, "-n 0: must be between 1 and"},
		{[]string{"attack", "-n", "ten"}, `invalid value "ten" for flag -n`},
		{[]string{"attack", "-bogus"}, "flag provided but not defined: -bogus"},
		{[]string{"attack", "-url", "http://example.com/flip"}, "not a loopback address"},
		{[]string{"attack", "-url", "http://10.1.2.3:3000/flip"}, "not a loopback address"},
		{[]string{"attack", "-n", "5", "-rate", "5", "-duration", "1s"}, "-n and -rate exclude each other"},
		{[]string{"attack", "-rate", "5"}, "-rate needs a positive -duration"},
		{[]string{"attack", "-rate", "0", "-duration", "1s"}, "-rate 0: must be positive"},
		{[]string{"attack", "-rate", "-2", "-duration", "1s"}, "-rate -2: must be positive"},
		{[]string{"attack", "-rate", "10", "-duration", "50ms"}, "-duration 50ms is shorter than one arrival at -rate 10 (one every 100ms)"},
		{[]string{"attack", "-clients", "2", "-duration", "1s", "-gone-after", "-1s"}, "-gone-after -1s: cannot be negative"},
		{[]string{"attack", "-duration", "1s"}, "-duration needs -rate"},
		{[]string{"attack", "-timeout", "0s"}, "-timeout 0s: must be positive"},
		{[]string{"attack", "-clients", "3", "-n", "5", "-duration", "1s"}, "-clients excludes -n and -rate"},
		{[]string{"attack", "-clients", "3"}, "-clients: keep-alive clients need a duration or a request count"},
		{[]string{"attack", "-clients", "3", "-duration", "1s", "-requests", "2"}, "not both"},
		{[]string{"attack", "-clients", "0", "-requests", "2"}, "0 keep-alive clients"},
		{[]string{"attack", "-requests", "2"}, "-requests needs -clients"},
		{[]string{"attack", "-format", "xml"}, `-format "xml"`},
		{[]string{"attack", "extra"}, "unexpected arguments"},
		{[]string{"bench", "-levels", "10,ten", "-image", img}, `-levels: level "ten" is not a whole number`},
		{[]string{"bench", "-levels", "0", "-image", img}, "out of range"},
		{[]string{"bench", "-modes", "standard,forked", "-image", img}, `-modes: unknown mode "forked"`},
		{[]string{"bench", "-image", filepath.Join(t.TempDir(), "none.jpg")}, "-image:"},
		{[]string{"bench", "-image", img, "-timeout", "-1s"}, "cannot be negative"},
		{[]string{"bench", "-image", img, "-warmups", "0"}, "-warmups 0"},
		{[]string{"bench", "-image", img, "-progress", "maybe"}, `-progress "maybe"`},
		{[]string{"bench", "-image", img, "-max-rss", "lots"}, `-max-rss: size "lots"`},
		{[]string{"bench", "-image", img, "now"}, "unexpected arguments"},
		{[]string{"bench", "-image", img, "-workload", "tea"}, `-workload "tea": want flip, rate or hello`},
		{[]string{"bench", "-image", img, "-step", "1s"}, "-step is for -workload hello, not flip"},
		{[]string{"bench", "-image", img, "-clients", "10,x"}, `-clients: client count "x" is not a whole number`},
		{[]string{"bench", "-image", img, "-clients-duration", "-1s"}, "-clients-duration -1s: cannot be negative"},
		{[]string{"bench", "-image", img, "-workload", "hello", "-clients", "10"}, "-clients is for -workload flip, not hello"},
		{[]string{"bench", "-image", img, "-workload", "hello", "-levels", "10"}, "-levels is for -workload flip, not hello"},
		{[]string{"bench", "-image", img, "-workload", "hello", "-rate-factor", "1"}, "-rate-factor 1: must be above 1"},
		{[]string{"bench", "-image", img, "-workload", "hello", "-rate-start", "0"}, "-rate-start 0: must be positive"},
		{[]string{"bench", "-image", img, "-workload", "hello", "-rate-max", "100"}, "-rate-max 100: below -rate-start 500"},
		{[]string{"bench", "-image", img, "-workload", "hello", "-p99-bound", "0s"}, "-p99-bound 0s: must be positive"},
		{[]string{"bench", "-image", img, "-workload", "hello", "-modes", "forked"}, `-modes: unknown mode "forked"`},
		{[]string{"bench", "-image", img, "-workload", "hello", "-tries", "0"}, "-tries 0: need at least 1"},
		{[]string{"balance", "-image", img, "-runs", "0"}, "-runs 0: need at least 1"},
		{[]string{"balance", "-image", img, "-sizes", "10,x"}, `-sizes: level "x" is not a whole number`},
		{[]string{"balance", "-image", img, "-policies", "rr,roundrobin"}, `-policies: unknown policy "roundrobin" (known: reuseport, shared, rr, none)`},
		{[]string{"balance", "-image", img, "-policies", "clustered"}, `unknown policy "clustered"`},
		{[]string{"balance", "-image", img, "-target", "ftp"}, `-target "ftp": want flip or hello`},
		{[]string{"balance", "-image", img, "-workers", "-1"}, "-workers -1: cannot be negative"},
		{[]string{"balance", "-image", filepath.Join(t.TempDir(), "none.jpg")}, "-image:"},
		{[]string{"balance", "-image", img, "again"}, "unexpected arguments"},
		{[]string{"crosscheck", "-duration", "1500ms"}, "-duration 1.5s: want whole seconds"},
		{[]string{"crosscheck", "-clients", "0"}, "-clients 0: need at least 1"},
		{[]string{"crosscheck", "-modes", "forked"}, `-modes: unknown mode "forked"`},
		{[]string{"crosscheck", "-artillery-rate", "-1"}, "artillery rate -1: want arrivals per second above 0"},
		{[]string{"crosscheck", "-artillery-duration", "1500ms"}, "artillery duration 1.5s: Artillery's phase takes whole seconds"},
		{[]string{"crosscheck", "-artillery-rate", "0.5", "-artillery-duration", "1s"}, "too short for one arrival"},
		{[]string{"crosscheck", "-max-rss", "lots"}, "-max-rss: size"},
		{[]string{"report"}, "want one run folder"},
		{[]string{"compare", "a"}, "want two run folders"},
	} {
		code, _, stderr := runCLI(t, tc.args...)
		if code != exitUsage || !strings.Contains(stderr, tc.want) {
			t.Errorf("loadtest %q: exit %d, want %d; stderr lacks %q:\n%s", tc.args, code, exitUsage, tc.want, stderr)
		}
	}
}

func TestAttackBurst(t *testing.T) {
	srv := flipServer(t)
	out := t.TempDir()
	code, stdout, stderr := runCLI(t, "attack", "-url", srv.URL+"/flip", "-n", "6", "-timeout", "10s",
		"-capacity", "6", "-calibration", "30ms", "-out", out)
	if code != exitOK {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	for _, want := range []string{"[total, rate, throughput]         6,", "6 of 6 ok, status codes 200:6", "per worker     42:6", "client timeout 10s", "efficiency"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	for _, f := range loadtest.LevelFiles(loadtest.BurstName(6)) {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("missing %s: %v", f, err)
		}
	}
	rs, err := loadtest.ReadResults(filepath.Join(out, "burst-6.bin"))
	if err != nil || len(rs) != 6 {
		t.Errorf("read back %d results, %v; want 6", len(rs), err)
	}

	code, stdout, stderr = runCLI(t, "attack", "-url", srv.URL+"/flip", "-n", "3", "-format", "json")
	if code != exitOK {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	var m loadtest.Metrics
	if err := json.Unmarshal([]byte(stdout), &m); err != nil || m.Requests != 3 || m.Successes != 3 || m.Level != 3 {
		t.Errorf("json output %+v, %v; want 3 of 3 ok", m, err)
	}
}

func TestAttackKeepAlive(t *testing.T) {
	srv := flipServer(t)
	out := t.TempDir()
	code, stdout, stderr := runCLI(t, "attack", "-url", srv.URL+"/flip", "-clients", "3", "-requests", "2", "-out", out)
	if code != exitOK {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	for _, want := range []string{"[total, rate, throughput]         6,", "fairness       1.00 (fewest answers of a client / most: 2–2), 0 of 3 clients starved", "per worker     42:6"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	rs, err := loadtest.ReadResults(filepath.Join(out, "keepalive-3.bin"))
	if err != nil || len(rs) != 6 {
		t.Errorf("read back %d results, %v; want 6", len(rs), err)
	}

	code, stdout, stderr = runCLI(t, "attack", "-url", srv.URL+"/flip", "-clients", "2", "-duration", "200ms", "-format", "json")
	if code != exitOK {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	var m loadtest.KeepAliveMetrics
	if err := json.Unmarshal([]byte(stdout), &m); err != nil || m.Clients != 2 || m.Answers == 0 || len(m.PerClientStats) != 2 {
		t.Errorf("json output %+v, %v; want 2 clients with answers", m, err)
	}
}

func TestAttackSustainedAndErrors(t *testing.T) {
	srv := flipServer(t)
	code, stdout, stderr := runCLI(t, "attack", "-url", srv.URL+"/flip", "-rate", "20", "-duration", "300ms", "-format", "json")
	if code != exitOK {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	var m loadtest.Metrics
	if err := json.Unmarshal([]byte(stdout), &m); err != nil || m.Requests < 4 || m.Requests > 8 {
		t.Errorf("sustained: %d requests, %v; want about 6", m.Requests, err)
	}

	// A closed port: the attack reports the failures and still succeeds.
	dead := httptest.NewServer(http.NotFoundHandler())
	url := dead.URL
	dead.Close()
	code, stdout, stderr = runCLI(t, "attack", "-url", url, "-n", "3", "-timeout", "5s")
	if code != exitOK || !strings.Contains(stdout, "0 of 3 ok") {
		t.Errorf("attack on a closed port: exit %d\n%s%s", code, stdout, stderr)
	}
}

func TestBenchReportCompare(t *testing.T) {
	bin, img := servertest.LinkBin(t, "standard"), servertest.Photo(t)
	out := filepath.Join(t.TempDir(), "run")
	code, stdout, stderr := runCLI(t, "bench", "-bin", bin, "-image", img, "-out", out, "-levels", "3,5",
		"-clients", "2", "-clients-duration", "300ms", "-warmups", "1", "-cpus", "2", "-progress", "off", "-runs", "2")
	if code != exitOK {
		t.Fatalf("bench: exit %d\n%s", code, stderr)
	}
	for _, want := range []string{"skip clustered", "skip shared", "standard n=5: 5/5 ok", "threaded clients=2:", "threaded: stopped cleanly"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("bench log lacks %q:\n%s", want, stderr)
		}
	}
	if !strings.Contains(stdout, "| threaded | 5 | 2 | 10/10 |") || !strings.Contains(stdout, "| threaded | 2 | 2 |") {
		t.Errorf("bench did not print the summary:\n%s", stdout)
	}
	var env runfolder.Env
	if err := loadtest.ReadJSON(filepath.Join(out, runfolder.FileEnv), &env); err != nil || env.Flags["levels"] != "3,5" {
		t.Errorf("env.json flags = %v, %v", env.Flags, err)
	}

	code, stdout, stderr = runCLI(t, "report", out)
	if code != exitOK || !strings.Contains(stdout, "| standard | 3 | 2 | 6/6 |") {
		t.Errorf("report: exit %d\n%s%s", code, stdout, stderr)
	}
	cmpFile := filepath.Join(t.TempDir(), "cmp.md")
	code, stdout, stderr = runCLI(t, "compare", "-out", cmpFile, out, out)
	if code != exitOK || !strings.Contains(stdout, "| threaded | 5 |") || !strings.Contains(stdout, "| 1.00 |") {
		t.Errorf("compare: exit %d\n%s%s", code, stdout, stderr)
	}
	if b, err := os.ReadFile(cmpFile); err != nil || string(b) != stdout {
		t.Errorf("compare -out file differs from stdout (%v)", err)
	}

	code, _, stderr = runCLI(t, "report", filepath.Join(t.TempDir(), "nothing"))
	if code != exitFailure || !strings.Contains(stderr, "run folder") {
		t.Errorf("report on a missing folder: exit %d\n%s", code, stderr)
	}
	code, _, stderr = runCLI(t, "compare", out, t.TempDir())
	if code != exitFailure || !strings.Contains(stderr, "summary.json") {
		t.Errorf("compare with an empty folder: exit %d\n%s", code, stderr)
	}
}
