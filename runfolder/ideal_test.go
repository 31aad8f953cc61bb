package runfolder

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/flipbench/flipbench/loadtest"
)

// storedLevel is what a level stored of its S before it was derived.
type storedLevel struct {
	Level      int     `json:"level"`
	Efficiency float64 `json:"efficiency"`
	Ideal      string  `json:"ideal_makespan"`
}

// storedTrials reads the raw trials of every mode of a committed
// summary.json, keyed by mode and round.
func storedTrials(t *testing.T, dir string) map[string]map[int][]storedLevel {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, FileSummaryJSON))
	if err != nil {
		t.Fatal(err)
	}
	type trial struct {
		Round  int           `json:"round"`
		Levels []storedLevel `json:"levels"`
	}
	var raw struct {
		Modes []struct {
			Mode string `json:"mode"`
			trial
			Rounds []trial `json:"more_rounds"`
		} `json:"modes"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatal(err)
	}
	out := map[string]map[int][]storedLevel{}
	for _, m := range raw.Modes {
		out[m.Mode] = map[int][]storedLevel{max(m.Round, 1): m.Levels}
		for _, r := range m.Rounds {
			out[m.Mode][r.Round] = r.Levels
		}
	}
	return out
}

// Committed runs stored each level's ideal makespan and efficiency; the
// figures derived from the rounds' S (or, without S, the trial's warm-up
// job time) give them back.
func TestBurstIdealMatchesCommittedRuns(t *testing.T) {
	for _, run := range []string{"reference-2core", "node-2core", "engines-2core", "reference-2core-single", "node-2core-guard"} {
		dir := filepath.Join("..", "results", run)
		stored := storedTrials(t, dir)
		sum, err := LoadSummary(dir)
		if err != nil {
			t.Fatal(err)
		}
		checked := 0
		for _, m := range sum.Modes {
			for _, tr := range m.Trials() {
				levels := stored[m.Mode][tr.RoundOf()]
				for i, l := range tr.Levels {
					want := levels[i]
					id := sum.BurstIdeal(tr, l)
					wantIdeal, err := time.ParseDuration(want.Ideal)
					if err != nil {
						t.Fatalf("%s %s: stored ideal %q: %v", run, m.Mode, want.Ideal, err)
					}
					if id.Makespan != wantIdeal || math.Abs(id.Efficiency-want.Efficiency) > 1e-12 {
						t.Errorf("%s %s round %d n=%d: derived ideal %s efficiency %v, stored %s %v",
							run, m.Mode, tr.RoundOf(), l.Level, id.Makespan, id.Efficiency, wantIdeal, want.Efficiency)
					}
					checked++
				}
			}
		}
		if checked == 0 {
			t.Errorf("%s: no level checked", run)
		}
	}
}

// A round's S is known only after its bursts (it pools the baseline's
// bursts of the round): the figures count each burst in the S the summary
// ends with, with no field of the burst to rewrite.
func TestFiguresCountInTheFinalS(t *testing.T) {
	burst := loadtest.Metrics{Level: 4, Requests: 4, Successes: 4, Capacity: 2, Makespan: loadtest.Duration(4 * time.Second), Throughput: 1}
	sum := &Summary{Levels: []int{4}, Modes: []ModeRun{{Mode: BaselineMode, Trial: Trial{Round: 1, Capacity: 2,
		WarmupJob: loadtest.Duration(time.Second), Levels: []loadtest.Metrics{burst}}}}}
	if got := Aggregate(sum).Bursts[0].Efficiency.Median; got != 0.5 {
		t.Errorf("no S yet: efficiency %v, want 0.5 in the warm-up job time", got)
	}
	sum.Rounds = []Round{{Index: 1, S: &RunS{Mode: BaselineMode, S: loadtest.Duration(1500 * time.Millisecond)}}}
	if got := Aggregate(sum).Bursts[0].Efficiency.Median; got != 0.75 {
		t.Errorf("pooled S 1.5s: efficiency %v, want 0.75", got)
	}
	sum.Modes[0].MemoryStop = &MemoryStop{Level: 4}
	if id := sum.BurstIdeal(sum.Modes[0].Trial, burst); id.Efficiency != 0 || id.Makespan != 3*time.Second {
		t.Errorf("a burst cut short: %+v, want its ideal makespan 3s and no efficiency", id)
	}
}

// Only the modes on S's engine have an ideal, decided once per summary.
func TestNoIdealNamesOtherEngines(t *testing.T) {
	sum := &Summary{S: &RunS{Mode: BaselineMode}, Modes: []ModeRun{
		{Mode: BaselineMode, Spec: Spec{Binary: "bin/standard"}},
		{Mode: "vips-standard", Spec: Spec{Binary: "bin/standard-vips", Args: []string{"-engine", "vips"}}},
	}}
	f := Aggregate(sum)
	if !f.HasIdeal(BaselineMode) || f.HasIdeal("vips-standard") || len(f.NoIdeal) != 1 {
		t.Errorf("no ideal for %v", f.NoIdeal)
	}
	sum.S = nil
	if f := Aggregate(sum); len(f.NoIdeal) != 0 {
		t.Errorf("a run without S: no ideal for %v, want every mode counted in its own job time", f.NoIdeal)
	}
}
