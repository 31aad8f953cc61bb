package report

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flipbench/flipbench/bench"
	"github.com/flipbench/flipbench/internal/stats"
	"github.com/flipbench/flipbench/loadtest"
	"github.com/flipbench/flipbench/runfolder"
	"github.com/flipbench/flipbench/server/servertest"
	"github.com/flipbench/flipbench/trial"
)

// TestMain lets the test binary double as the fake server binaries.
func TestMain(m *testing.M) {
	servertest.RunIfServer()
	os.Exit(m.Run())
}

// fakeRun runs a small bench of the fake servers into a run folder.
func fakeRun(t *testing.T, modes ...string) (string, *runfolder.Summary) {
	t.Helper()
	bin, img := servertest.LinkBin(t), servertest.Photo(t)
	out := filepath.Join(t.TempDir(), "run")
	sum, err := bench.Run(context.Background(), bench.Config{
		Settings: trial.Settings{BinDir: bin, NodeApp: t.TempDir(), Image: img, Out: out, Warmups: 2, Cores: 2,
			StopTimeout: 5 * time.Second, ServerEnv: []string{"FAKESERVER_DELAY=30ms"}},
		Modes: modes, Levels: []int{4, 10}, Clients: []int{2}, ClientsDuration: 300 * time.Millisecond,
	})
	if err != nil {
		t.Fatalf("bench: %v", err)
	}
	return out, sum
}

func TestWriteRerenderCompare(t *testing.T) {
	out, sum := fakeRun(t, "standard", "clustered", "shared", "node-standard")
	written, err := Write(out, sum)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{runfolder.FileSummaryMD, "latency-4.svg", "latency-10.svg", "throughput.svg", "speedup.svg"} {
		if fi, err := os.Stat(filepath.Join(out, f)); err != nil || fi.Size() == 0 {
			t.Errorf("%s missing or empty (%v)", f, err)
		}
	}
	md, _ := os.ReadFile(filepath.Join(out, runfolder.FileSummaryMD))
	if string(md) != written {
		t.Errorf("Write returned another summary than it wrote:\n%s", written)
	}
	for _, want := range []string{"| standard | 10 | 10 |", "| clustered |", "vegeta measures from the send",
		"speedup", "![throughput](throughput.svg)", "node-standard", "skipped",
		"## Keep-alive clients", "| standard | 2 | 300ms |", "fairness = the fewest answers"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("summary.md lacks %q:\n%s", want, md)
		}
	}

	// Recomputing from the .bin files gives the same figures.
	again, err := Rerender(out)
	if err != nil {
		t.Fatal(err)
	}
	if again.S == nil || again.S.S != sum.S.S {
		t.Errorf("rerendered S = %+v, want %s", again.S, sum.S.S)
	}
	for _, m := range sum.Modes {
		m2, ok := again.Mode(m.Mode)
		if !ok {
			t.Fatalf("rerendered run lacks %s", m.Mode)
		}
		for _, l := range m.Levels {
			l2, _ := m2.Level(l.Level)
			if l2.Makespan != l.Makespan || l2.Latency != l.Latency || again.BurstIdeal(m2.Trial, l2) != sum.BurstIdeal(m.Trial, l) {
				t.Errorf("%s n=%d: rerendered metrics differ:\n %+v\n %+v", m.Mode, l.Level, l2, l)
			}
		}
		for _, k := range m.KeepAlive {
			k2, _ := m2.Clients(k.Clients)
			if k2.Answers != k.Answers || k2.Starved != k.Starved || k2.Latency != k.Latency {
				t.Errorf("%s clients=%d: rerendered keep-alive metrics differ:\n %+v\n %+v", m.Mode, k.Clients, k2, k)
			}
		}
	}

	// A run against itself has ratios of 1.
	a, err := runfolder.LoadSummary(out)
	if err != nil {
		t.Fatal(err)
	}
	cmp := RenderCompare(a, a)
	if !strings.Contains(cmp, "| shared | 10 |") || !strings.Contains(cmp, "| 1.00 |") {
		t.Errorf("comparison:\n%s", cmp)
	}
}

func TestKeepAliveTable(t *testing.T) {
	ka := func(c int, throughput float64, answers ...int) loadtest.KeepAliveMetrics {
		m := loadtest.KeepAliveMetrics{Clients: c, Throughput: throughput, Duration: loadtest.Duration(10 * time.Second)}
		for i, a := range answers {
			m.Answers += a
			m.PerClientStats = append(m.PerClientStats, loadtest.ClientStats{Client: i, Answers: a})
			if a == 0 {
				m.Starved++
			}
		}
		return m
	}
	sum := &runfolder.Summary{Run: "x", Modes: []runfolder.ModeRun{
		{Mode: "standard", Trial: runfolder.Trial{KeepAlive: []loadtest.KeepAliveMetrics{ka(3, 10, 3, 3, 4)}}},
		{Mode: "shared", Trial: runfolder.Trial{KeepAlive: []loadtest.KeepAliveMetrics{ka(3, 18, 9, 9, 0)}}},
	}}
	md := RenderMarkdown(sum, nil)
	for _, want := range []string{"| standard | 3 | 10s | 10 | 10.00 | 1.00× |", "| shared | 3 | 10s | 18 | 18.00 | 1.80× |", "| 0–9 | 1 |"} {
		if !strings.Contains(md, want) {
			t.Errorf("summary lacks %q:\n%s", want, md)
		}
	}
	if md := RenderMarkdown(&runfolder.Summary{Run: "y"}, nil); strings.Contains(md, "Keep-alive") {
		t.Errorf("a run without keep-alive clients has their section:\n%s", md)
	}
}

// A run stored before the one-S rule (every mode with its own S, no run
// calibration) is brought up to date by Rerender: every mode is counted in
// standard's S.
func TestRerenderOldRunTakesStandardsS(t *testing.T) {
	out, sum := fakeRun(t, "standard", "clustered")
	sum.S, sum.Rounds = nil, nil // as stored before rounds and the S burst
	if err := runfolder.WriteSummary(out, sum); err != nil {
		t.Fatal(err)
	}
	again, err := Rerender(out)
	if err != nil {
		t.Fatal(err)
	}
	std, _ := again.Mode("standard")
	if again.S == nil || again.S.S != std.WarmupJob {
		t.Fatalf("rerendered calibration %+v, want standard's own S %s", again.S, std.WarmupJob)
	}
	clu, _ := again.Mode("clustered")
	for _, l := range clu.Levels {
		if id := again.BurstIdeal(clu.Trial, l); id.S != std.WarmupJob.D() {
			t.Errorf("clustered n=%d counted in %s, want standard's %s", l.Level, id.S, std.WarmupJob)
		}
	}
}

func TestRenderCrossCheck(t *testing.T) {
	cc := &bench.CrossCheck{Clients: 10, Duration: loadtest.Duration(10 * time.Second), Image: "photo-1mp.jpg", Rows: []bench.CrossRow{
		{Mode: "shared",
			Autocannon: &bench.Autocannon{ClientFigures: bench.ClientFigures{Answers: 181, Throughput: 18.1, P50: 112, P99: 130, NeverAnswered: 8, PerClient: []int{0, 0, 0, 0, 0, 0, 0, 0, 90, 91}}},
			Flipbench:  &bench.ClientFigures{Answers: 179, Throughput: 17.9, P50: 110, P99: 128, NeverAnswered: 8, PerClient: []int{0, 0, 0, 0, 0, 0, 0, 0, 89, 90}}},
		{Mode: "standard", AutocannonSkipped: "node is not on the PATH", Flipbench: &bench.ClientFigures{Answers: 99, Throughput: 9.9, PerClient: []int{9, 10}}},
		{Mode: "node-standard", Skipped: "node is not on the PATH"},
	}}
	md := RenderCrossCheck(cc)
	for _, want := range []string{
		"| shared | 181 / 179 | 18.1 / 17.9 | 112 / 110 | 130 / 128 | 8 / 8 | 0–91 / 0–90 |",
		"| standard | – / 99 |", "- standard: autocannon did not run: node is not on the PATH",
		"| node-standard | skipped: node is not on the PATH |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("cross-check lacks %q:\n%s", want, md)
		}
	}
}

func TestRenderCrossCheckArrivals(t *testing.T) {
	cc := &runfolder.CrossCheck{Clients: 10, Duration: loadtest.Duration(10 * time.Second), Image: "photo-1mp.jpg",
		Arrivals: &runfolder.CrossArrivals{Rate: 20, Duration: loadtest.Duration(30 * time.Second),
			Timeout: loadtest.Duration(10 * time.Second), RateFrom: "given"},
		Rows: []runfolder.CrossRow{
			{Mode: "standard",
				Artillery: &runfolder.Artillery{Requests: 600, Answers: 463, Throughput: 15.4, P50: 4980, P99: 9900,
					Errors: map[string]int{"ETIMEDOUT": 137}},
				Open: &runfolder.OpenFigures{Requests: 600, Answers: 470, Throughput: 15.7, P50: 4900, P99: 9800,
					Unanswered: 130, P99Scheduled: 10000, IdealP99: 9500}},
			{Mode: "shared", ArtillerySkipped: "node is not on the PATH", Busy: []string{"shared open model: other processes used 1.20 cores"},
				Open: &runfolder.OpenFigures{Requests: 600, Answers: 600, Throughput: 20, P50: 74, P99: 109, P99Scheduled: 110}},
		}}
	md := RenderCrossCheck(cc)
	for _, want := range []string{
		"20 arrivals/s for 30s (rate: given)",
		"| standard | 463/600 / 470/600 | 15.4 / 15.7 | 4980 / 4900 | 9900 / 9800 | 0 / 0 | 137 / 130 | 10000 | 9500 |",
		"| shared | – / 600/600 | – / 20.0 | – / 74 | – / 109 | – / 0 | – / 0 | 110 | – |",
		"- standard: Artillery's errors: ETIMEDOUT 137", "- shared: Artillery did not run: node is not on the PATH",
		"the machine was busy** in 1 trial(s)", "> - shared open model: other processes used 1.20 cores",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("cross-check lacks %q:\n%s", want, md)
		}
	}
	if old := RenderCrossCheck(&runfolder.CrossCheck{Rows: cc.Rows}); strings.Contains(old, "Artillery") {
		t.Errorf("a cross-check without arrivals renders their table:\n%s", old)
	}
}

// TestRenderOldSummary renders a summary.json stored before rounds existed
// (one trial per mode, its fields at the top of the mode).
func TestRenderOldSummary(t *testing.T) {
	sum, err := runfolder.LoadSummary(filepath.Join("..", "results", "reference-2core-single"))
	if err != nil {
		t.Fatal(err)
	}
	md := RenderMarkdown(sum, nil)
	for _, want := range []string{"| standard |", "| shared |", "S = "} {
		if !strings.Contains(md, want) {
			t.Errorf("summary of an old run lacks %q:\n%s", want, md)
		}
	}
}

// TestSpeedupMarks: a comparison the rounds could not test, one that
// found no difference and one that found it each get their own word.
func TestSpeedupMarks(t *testing.T) {
	iv := stats.Interval{Median: 1.93, Lo: 1.9, Hi: 1.95, N: 3, MinMax: true}
	for _, tt := range []struct {
		name string
		c    *stats.Comparison
		want string
	}{
		{"3 rounds a side", new(stats.Compare([]float64{1, 1.1, 1.2}, []float64{2, 2.1, 2.2})), "1.93× {1.90×–1.95×} (untested, K = 3)"},
		{"no difference", new(stats.Compare([]float64{1, 1.1, 1.2, 1.3, 1.4}, []float64{1.05, 1.15, 1.25, 1.35, 1.45})), "1.93× {1.90×–1.95×} (n.s.)"},
		{"a difference", new(stats.Compare([]float64{1, 1.1, 1.2, 1.3, 1.4}, []float64{2, 2.1, 2.2, 2.3, 2.4})), "1.93× {1.90×–1.95×}"},
	} {
		if got := speedupText(runfolder.BaselineMode, "shared", iv, tt.c); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
	if got := speedupText(runfolder.BaselineMode, runfolder.BaselineMode, iv, nil); got != "1×" {
		t.Errorf("standard: %q", got)
	}
}

func TestBurstFiguresWarnEfficiencyAboveOne(t *testing.T) {
	var b strings.Builder
	writeBurstFigures(&b, &runfolder.Summary{}, &runfolder.Figures{Bursts: []runfolder.BurstFigures{
		{Mode: "shared", Level: 10, Rounds: 3, Efficiency: stats.Interval{Median: 1.2, Lo: 1.1, Hi: 1.3, N: 3, MinMax: true},
			Speedup: stats.Interval{Median: 1.9, Lo: 1.8, Hi: 2, N: 3, MinMax: true}, VsBaseline: &stats.Comparison{P: 0.1}},
	}})
	md := b.String()
	for _, want := range []string{"120% {110%–130%} ⚠", "1.90× {1.80×–2.00×} ⚠ (n.s.)", "Efficiency above 100 % beyond its interval: shared at N = 10"} {
		if !strings.Contains(md, want) {
			t.Errorf("figures lack %q:\n%s", want, md)
		}
	}
}

// The noise line and the busy warning of a summary, as the experiments'
// reports write them too.
func TestWriteNoise(t *testing.T) {
	render := func(noise ...*runfolder.Noise) string {
		var trials []runfolder.NamedNoise
		for i, n := range noise {
			trials = append(trials, runfolder.NamedNoise{Name: "standard, round " + string(rune('1'+i)), Noise: n})
		}
		var b strings.Builder
		WriteNoise(&b, runfolder.SummarizeNoise(trials))
		return b.String()
	}
	if got := render(nil, nil); got != "" {
		t.Errorf("trials without noise wrote %q", got)
	}
	quiet := render(&runfolder.Noise{OtherCores: 0.01, Load1: 0.2})
	if want := "- Machine noise per trial: other processes used 0.01 cores, steal 0.0%, load average 0.20\n\n"; quiet != want {
		t.Errorf("quiet machine:\n%q\nwant\n%q", quiet, want)
	}
	busy := render(&runfolder.Noise{OtherCores: 0.01}, &runfolder.Noise{OtherCores: 1.2, Load1: 3})
	for _, want := range []string{"**Warning: the machine was busy** in 1 trial(s)", "> - standard, round 2: other processes used 1.20 cores"} {
		if !strings.Contains(busy, want) {
			t.Errorf("busy machine: lacks %q:\n%s", want, busy)
		}
	}
}

// A run stored before summary.json kept the mode order is re-rendered in
// the order its modes were stored (not its folders' alphabetical order), or
// in the runner's order when given, and keeps it from then on.
func TestRerenderWithoutStoredOrder(t *testing.T) {
	out, sum := fakeRun(t, "standard", "shared", "clustered")
	names := func(s *runfolder.Summary) []string {
		var ns []string
		for _, m := range s.Modes {
			ns = append(ns, m.Mode)
		}
		return ns
	}
	stored := []string{"standard", "shared", "clustered"} // not bench's order, nor the folders'
	unorder := func() {
		t.Helper()
		sum.Order = stored
		if err := runfolder.WriteSummary(out, sum); err != nil {
			t.Fatal(err)
		}
		sum.Order = nil
		if err := loadtest.WriteJSON(filepath.Join(out, runfolder.FileSummaryJSON), sum); err != nil {
			t.Fatal(err)
		}
	}
	unorder()
	again, err := Rerender(out)
	if err != nil {
		t.Fatal(err)
	}
	if got := names(again); !slices.Equal(got, stored) || !slices.Equal(again.Order, stored) {
		t.Errorf("rerendered modes %q, order %q; want both %q", got, again.Order, stored)
	}
	var figs []string
	for _, b := range again.Figures.Bursts {
		if b.Level == 10 {
			figs = append(figs, b.Mode)
		}
	}
	if !slices.Equal(figs, stored) {
		t.Errorf("rerendered figures list the modes %q, want %q", figs, stored)
	}
	unorder()
	known := []string{"standard", "threaded", "clustered", "shared"}
	again, err = RerenderWith(out, known)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := names(again), []string{"standard", "clustered", "shared"}; !slices.Equal(got, want) || !slices.Equal(again.Order, known) {
		t.Errorf("rerendered with the runner's order: modes %q, order %q; want %q, %q", got, again.Order, want, known)
	}
}
