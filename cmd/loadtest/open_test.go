package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flipbench/flipbench/loadtest"
)

func TestAttackOpenBadFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-arrivals", "bursty", "-rate", "5", "-duration", "1s"}, `arrivals "bursty": want constant or poisson`},
		{[]string{"-arrivals", "constant", "-rate", "0", "-duration", "1s"}, "arrival rate 0/s: must be positive"},
		{[]string{"-arrivals", "poisson", "-rate", "-2", "-duration", "1s"}, "must be positive"},
		{[]string{"-arrivals", "constant", "-rate", "2", "-duration", "300ms"}, "300ms at 2/s: too short for one arrival (need at least 500ms)"},
		{[]string{"-arrivals", "constant", "-rate", "2", "-duration", "1s", "-seed", "3"}, "seed 3: constant arrivals draw nothing"},
		{[]string{"-arrivals", "poisson", "-rate", "2", "-duration", "1s", "-seed", "-1"}, `invalid value "-1" for flag -seed`},
		{[]string{"-arrivals", "poisson", "-rate", "2", "-duration", "1s", "-seed", "x"}, `invalid value "x" for flag -seed`},
		{[]string{"-arrivals", "constant", "-duration", "1s"}, "-arrivals needs -rate"},
		{[]string{"-arrivals", "constant", "-rate", "5"}, "-arrivals needs -duration"},
		{[]string{"-arrivals", "constant", "-rate", "5", "-duration", "1s", "-n", "3"}, "excludes -n, -clients and -requests"},
		{[]string{"-article", "-rate", "5"}, "-article is the article's load as it was"},
		{[]string{"-article", "-clients", "2"}, "excludes -n, -clients and -requests"},
		{[]string{"-seed", "4"}, "-seed and -keep-alive are for the open model"},
		{[]string{"-keep-alive", "-n", "3"}, "-seed and -keep-alive are for the open model"},
		{[]string{"-article", "-url", "http://example.com/flip"}, "not a loopback address"},
	} {
		code, _, stderr := runCLI(t, append([]string{"attack"}, tc.args...)...)
		// One line of error before the hint (or the flag package's usage).
		first, _, _ := strings.Cut(stderr, "\n")
		if code != exitUsage || !strings.Contains(first, tc.want) {
			t.Errorf("attack %q: exit %d, want %d; first line lacks %q:\n%s", tc.args, code, exitUsage, tc.want, stderr)
		}
	}
}

func TestArticlePreset(t *testing.T) {
	if code, stdout, stderr := runCLI(t, "attack", "-h"); code != exitOK || !strings.Contains(stdout+stderr, "-article is the\narticle's Artillery load") {
		t.Errorf("attack -h: exit %d, no word of -article:\n%s%s", code, stdout, stderr)
	}
	fs := newFlagSet("attack", "", os.Stderr)
	rate, duration := fs.Int("rate", 0, ""), fs.Duration("duration", 0, "")
	o := addOpenFlags(fs, rate, duration)
	if err := fs.Parse([]string{"-article"}); err != nil {
		t.Fatal(err)
	}
	if err := o.check(setFlags(fs)); err != nil {
		t.Fatal(err)
	}
	s := o.schedule
	if s.Arrivals != loadtest.ArrivalsConstant || s.Rate != 20 || s.Duration.D() != 30*time.Second || len(s.Offsets) != 600 || *o.keepAlive {
		t.Errorf("-article schedule %s with %d arrivals, keep-alive %v; want Artillery's 600 in 30 s on fresh connections", s, len(s.Offsets), *o.keepAlive)
	}
}

func TestAttackOpen(t *testing.T) {
	srv := flipServer(t)
	out := t.TempDir()
	code, stdout, stderr := runCLI(t, "attack", "-url", srv.URL+"/flip", "-arrivals", "constant", "-rate", "20", "-duration", "500ms",
		"-capacity", "1", "-calibration", "30ms", "-timeout", "10s", "-out", out)
	if code != exitOK {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	for _, want := range []string{"[total, rate, throughput]         10,", "10 ok, goodput", "0 shed (503), 0 failed",
		"latency        p50", "ideal          p50 30ms, p99 30ms (FIFO, capacity 1, S 30ms)", "per worker     42:10"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	for _, f := range loadtest.LevelFiles("open-constant-20-for-500ms") {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("missing %s: %v", f, err)
		}
	}

	code, stdout, stderr = runCLI(t, "attack", "-url", srv.URL+"/flip", "-arrivals", "poisson", "-seed", "5", "-rate", "20", "-duration", "500ms",
		"-keep-alive", "-format", "json")
	if code != exitOK {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	var m loadtest.OpenMetrics
	if err := json.Unmarshal([]byte(stdout), &m); err != nil {
		t.Fatal(err)
	}
	want, _ := loadtest.NewSchedule(loadtest.ArrivalsPoisson, 20, 500*time.Millisecond, 5)
	if m.Schedule.Seed != 5 || !m.KeepAlive || m.Scheduled != len(want.Offsets) || m.Successes != m.Scheduled || m.Ideal.Count != 0 {
		t.Errorf("poisson json: seed %d, keep-alive %v, %d of %d scheduled ok (want %d), ideal %+v",
			m.Schedule.Seed, m.KeepAlive, m.Successes, m.Scheduled, len(want.Offsets), m.Ideal)
	}
	if !strings.Contains(stderr, "(seed 5)") {
		t.Errorf("the seed is not printed:\n%s", stderr)
	}

	// Seed 0 picks one, printed and recorded.
	code, stdout, stderr = runCLI(t, "attack", "-url", srv.URL+"/flip", "-arrivals", "poisson", "-rate", "20", "-duration", "1s", "-format", "json")
	if code != exitOK {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	m = loadtest.OpenMetrics{}
	if err := json.Unmarshal([]byte(stdout), &m); err != nil || m.Schedule.Seed == 0 || !strings.Contains(stderr, "(seed ") {
		t.Errorf("no seed recorded: %d, %v\n%s", m.Schedule.Seed, err, stderr)
	}
}

// Against a port where nothing listens, `attack -arrivals` ends early as
// server gone after -gone-after, says so, and its .bin holds every result
// the metrics count.
func TestAttackOpenRefusedEndsGone(t *testing.T) {
	addr := refusedAddr()
	out := t.TempDir()
	code, stdout, stderr := runCLI(t, "attack", "-url", "http://"+addr+"/flip", "-arrivals", "constant", "-rate", "50", "-duration", "1m",
		"-gone-after", "300ms", "-out", out, "-format", "json")
	if code != exitFailure {
		t.Fatalf("exit %d, want %d\n%s", code, exitFailure, stderr)
	}
	if want := "server gone: no answer from " + addr + " for 300ms"; !strings.Contains(stderr, want) {
		t.Errorf("stderr lacks %q:\n%s", want, stderr)
	}
	var m loadtest.OpenMetrics
	if err := json.Unmarshal([]byte(stdout), &m); err != nil {
		t.Fatalf("metrics: %v\n%s", err, stdout)
	}
	if m.Stopped != loadtest.StoppedGone || m.Requests < 1 || m.Requests > m.Scheduled/10 || m.Failed != m.Requests {
		t.Errorf("stopped %q after %d of %d arrivals (%d failed); want %q after a few, all failed",
			m.Stopped, m.Requests, m.Scheduled, m.Failed, loadtest.StoppedGone)
	}
	rs, err := loadtest.ReadResults(filepath.Join(out, m.Schedule.Name()+loadtest.SuffixResults))
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != m.Requests {
		t.Errorf("the .bin holds %d results, the metrics count %d", len(rs), m.Requests)
	}
}
