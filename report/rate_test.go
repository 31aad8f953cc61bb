package report

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flipbench/flipbench/bench"
	"github.com/flipbench/flipbench/loadtest"
	"github.com/flipbench/flipbench/runfolder"
	"github.com/flipbench/flipbench/server/servertest"
	"github.com/flipbench/flipbench/trial"
)

// A short sweep on the fake server renders its capacity and step tables and
// its plot, and a re-render from the stored files gives the same summary.
func TestWriteRateSweep(t *testing.T) {
	out := filepath.Join(t.TempDir(), "run")
	sum, err := bench.Run(context.Background(), bench.Config{
		Settings: trial.Settings{BinDir: servertest.LinkBin(t), NodeApp: t.TempDir(), Image: servertest.Photo(t), Out: out,
			Warmups: 2, Cores: 2, StopTimeout: 5 * time.Second, ServerEnv: []string{"FAKESERVER_DELAY=30ms"}},
		Modes: []string{"standard", "shared"},
		Rate: &runfolder.RatePlan{Loads: []float64{0.5, 1.2}, ArrivalsPerStep: 8, Arrivals: loadtest.ArrivalsConstant,
			SLO: runfolder.SLO{TimesS: 5}},
	})
	if err != nil {
		t.Fatalf("bench: %v", err)
	}
	md, err := Write(out, sum)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"## Open model", "| mode | capacity at the SLO", "| standard | 0.5 |", "| shared | 1.2 |", "![rate](rate-p99.svg)", "SLO: p99 ≤"} {
		if !strings.Contains(md, want) {
			t.Errorf("summary.md lacks %q:\n%s", want, md)
		}
	}
	svg, err := os.ReadFile(filepath.Join(out, ratePlot))
	if err != nil {
		t.Fatal(err)
	}
	checkSVG(t, ratePlot, string(svg))
	if !strings.Contains(string(svg), "SLO") || !strings.Contains(string(svg), "ideal FIFO p99") {
		t.Errorf("%s lacks the SLO or the ideal in its legend", ratePlot)
	}
	again, err := Rerender(out)
	if err != nil {
		t.Fatal(err)
	}
	if a, b := runfolder.RateOf(again), runfolder.RateOf(sum); len(a) != len(b) || a[3].IdealP99 != b[3].IdealP99 {
		t.Errorf("re-rendered figures differ: %d vs %d steps", len(a), len(b))
	}
}

// The capacity answer is the highest offered rate held within the SLO with
// nothing shed or failed, beside the highest goodput of any step.
func TestCapacities(t *testing.T) {
	step := func(mode string, load, offered, goodput, p99 float64, shed int) runfolder.RateFigures {
		f := runfolder.RateFigures{Mode: mode, Load: load, Rounds: 1, Shed: shed}
		f.Offered.Median, f.Goodput.Median, f.P99.Median = offered, goodput, p99
		return f
	}
	figs := []runfolder.RateFigures{
		step("standard", 0.5, 10, 10, 0.08, 0), step("standard", 1.2, 24, 20, 2, 0),
		step("shared", 0.5, 20, 20, 0.07, 0), step("shared", 0.9, 36, 36, 0.2, 0), step("shared", 1.2, 48, 40, 0.2, 3),
	}
	got := runfolder.Capacities(figs, 250*time.Millisecond)
	want := []runfolder.RateCapacity{{Mode: "standard", HeldRate: 10, HeldLoad: 0.5, MaxGoodput: 20}, {Mode: "shared", HeldRate: 36, HeldLoad: 0.9, MaxGoodput: 40}}
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("capacities %+v, want %+v", got, want)
	}
}
