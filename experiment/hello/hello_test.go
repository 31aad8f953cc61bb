package hello

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gonum.org/v1/plot"

	"github.com/flipbench/flipbench/experiment/experimenttest"
	"github.com/flipbench/flipbench/loadtest"
	"github.com/flipbench/flipbench/runfolder"
	"github.com/flipbench/flipbench/server/servertest"
	"github.com/flipbench/flipbench/trial"
)

func helloConfig(t *testing.T, out string, log *bytes.Buffer) Config {
	return Config{Settings: experimenttest.Settings(t, out, log),
		StartRate: 20, Factor: 2, Step: 500 * time.Millisecond, MaxRate: 50, Bound: time.Second}
}

// A fast server passes every step, and the steps end where the next would
// pass the maximum rate.
func TestHelloStopsAtTheMaxRate(t *testing.T) {
	out := filepath.Join(t.TempDir(), "hello")
	var log bytes.Buffer
	cfg := helloConfig(t, out, &log)
	cfg.Modes = []string{"shared", "standard"}
	run, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatalf("hello: %v\nlog:\n%s", err, log.String())
	}
	stored := experimenttest.WriteAndLoad(t, out, run, Write, Load)
	if len(stored.Modes) != 2 || stored.Modes[0].Mode != "standard" {
		t.Fatalf("modes %+v, want standard then shared (report order)", stored.Modes)
	}
	for _, m := range stored.Modes {
		if m.Noise == nil {
			t.Errorf("%s: no noise recorded", m.Mode)
		}
		if len(m.Steps) != 2 || m.Steps[0].Rate != 20 || m.Steps[1].Rate != 40 {
			t.Fatalf("%s: steps %+v, want 20 and 40 requests/s", m.Mode, m.Steps)
		}
		if m.Highest != 40 || !strings.Contains(m.Stop, "past the -rate-max 50") {
			t.Errorf("%s: highest %d, stop %q; want 40, stopped by the maximum", m.Mode, m.Highest, m.Stop)
		}
		for _, s := range m.Steps {
			if s.Successes != s.Requests || s.Requests < s.Rate/4 || s.Fail != "" {
				t.Errorf("%s %d/s: %d of %d ok, fail %q", m.Mode, s.Rate, s.Successes, s.Requests, s.Fail)
			}
			for _, f := range loadtest.LevelFiles(RateName(s.Rate)) {
				servertest.RequireFiles(t, filepath.Join(out, m.Mode, f))
			}
		}
	}
	md, _ := os.ReadFile(filepath.Join(out, runfolder.FileSummaryMD))
	for _, want := range []string{"| standard | 40 |", "| shared | 40 |", helloPlot, "Machine noise per trial"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("summary.md lacks %q:\n%s", want, md)
		}
	}
	servertest.RequireFiles(t, filepath.Join(out, helloPlot), filepath.Join(out, runfolder.FileEnv))
}

// A server that takes 20 ms per GET / on one slot serves 50 a second: the
// steps go up until the queue pushes p99 past the bound, and the highest
// rate is the step before. Nothing here depends on how fast this machine
// is: whichever step fails, the one before it is the highest.
func TestHelloStopsAtTheBound(t *testing.T) {
	out := filepath.Join(t.TempDir(), "hello")
	var log bytes.Buffer
	cfg := helloConfig(t, out, &log)
	cfg.Modes, cfg.StartRate, cfg.MaxRate, cfg.Bound, cfg.Tries = []string{"standard"}, 10, 100000, 300*time.Millisecond, 2
	cfg.ServerEnv = []string{"FAKESERVER_HELLO_DELAY=20ms"}
	run, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatalf("hello: %v\nlog:\n%s", err, log.String())
	}
	m := run.Modes[0]
	n := len(m.Steps)
	if n < 3 {
		t.Fatalf("steps %+v: want the rate stepped up at least once and the last rate tried twice", m.Steps)
	}
	// The last rate failed on both tries, and that ended the steps.
	last, before := m.Steps[n-1], m.Steps[n-2]
	if last.Fail == "" || before.Fail == "" || last.Rate != before.Rate || last.Try != 2 || last.Rate >= cfg.MaxRate || !strings.Contains(m.Stop, last.Fail) {
		t.Fatalf("last steps %+v, %+v, stop %q: want one rate failing twice before the maximum rate", before, last, m.Stop)
	}
	highest := 0
	for i, s := range m.Steps[:n-1] {
		next := m.Steps[i+1]
		switch {
		case s.Fail == "" && s.P99.D() > cfg.Bound:
			t.Errorf("step %d/s passed with p99 %s", s.Rate, s.P99)
		case s.Fail == "" && (next.Rate != 2*s.Rate || next.Try != 1):
			t.Errorf("after %d/s passed came %d/s try %d, want × 2, first try", s.Rate, next.Rate, next.Try)
		case s.Fail != "" && (next.Rate != s.Rate || next.Try != s.Try+1):
			t.Errorf("after %d/s failed came %d/s try %d, want the same rate again", s.Rate, next.Rate, next.Try)
		}
		if s.Fail == "" {
			highest = s.Rate
		}
		servertest.RequireFiles(t, filepath.Join(out, "standard", s.Name+loadtest.SuffixResults))
	}
	if m.Highest != highest || highest == 0 {
		t.Errorf("highest %d, want the last rate that passed, %d", m.Highest, highest)
	}
	// One slot at 20 ms serves 50/s: a step of 200/s cannot have passed.
	if m.Highest >= 200 {
		t.Errorf("highest %d/s from a server that serves 50/s", m.Highest)
	}
}

func TestJudge(t *testing.T) {
	ok := Step{Rate: 100, Sent: 100, Requests: 100, Successes: 100, P99: loadtest.Duration(10 * time.Millisecond)}
	bound := 50 * time.Millisecond
	if got := judge(ok, bound); got != "" {
		t.Errorf("a good step failed: %q", got)
	}
	for want, s := range map[string]Step{
		"3 of 100 requests failed":          {Rate: 100, Sent: 100, Requests: 100, Successes: 97, P99: ok.P99},
		"p99 60ms over the 50ms bound":      {Rate: 100, Sent: 100, Requests: 100, Successes: 100, P99: loadtest.Duration(60 * time.Millisecond)},
		"the driver sent only 80 of 100 re": {Rate: 100, Sent: 80, Requests: 100, Successes: 100, P99: ok.P99},
	} {
		if got := judge(s, bound); !strings.HasPrefix(got, want) {
			t.Errorf("judge(%+v) = %q, want %q", s, got, want)
		}
	}
}

func TestDefaultModesAreTheGoModes(t *testing.T) {
	modes := DefaultModes()
	for _, want := range []string{"standard", "threaded", "clustered", "shared"} {
		if !strings.Contains(strings.Join(modes, ","), want) {
			t.Errorf("hello modes %v lack %s", modes, want)
		}
	}
	for _, m := range modes {
		if strings.HasPrefix(m, "node") {
			t.Errorf("hello modes %v include a Node mode by default", modes)
		}
	}
}

func TestSpaceLabels(t *testing.T) {
	var ticks []plot.Tick
	for _, v := range []float64{4400, 4000, 4840, 5324, 8000} {
		ticks = append(ticks, plot.Tick{Value: v, Label: "x"})
	}
	var got []string
	for _, tk := range spaceLabels(ticks, 1.3) {
		got = append(got, fmt.Sprintf("%g:%s", tk.Value, tk.Label))
	}
	if want := "4000:x 4400: 4840: 5324:x 8000:x"; strings.Join(got, " ") != want {
		t.Errorf("ticks %q, want %q", strings.Join(got, " "), want)
	}
}

// summary.md gives the machine's noise per mode, and bench's warning when
// other processes kept it busy in a mode's run; an old run without noise,
// neither.
func TestHelloReportNoise(t *testing.T) {
	experimenttest.CheckNoise(t, func(others ...float64) string {
		r := &Result{Run: "r", StartRate: 10, Factor: 2, Bound: loadtest.Duration(time.Second), Tries: 1,
			Modes: []ModeRun{{Mode: "standard", Highest: 10, Steps: []Step{{Rate: 10, Try: 1, Requests: 10, Successes: 10}}}}}
		for i, o := range others {
			if i > 0 {
				r.Modes = append(r.Modes, ModeRun{Mode: trial.ModeNames()[i]})
			}
			r.Modes[i].Noise = &runfolder.Noise{OtherCores: o, Steal: 0.001, Load1: 2}
		}
		return Render(r, nil)
	}, trial.ModeNames()[1]+": other processes used 0.90 cores, steal 0.1 %, load 2.00")
}
