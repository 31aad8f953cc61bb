package runfolder

import (
	"path/filepath"
	"testing"
)

// TestLoadOldSummary reads a summary.json stored before rounds existed: the
// first trial's fields sit at the top of each mode, S under "calibration".
func TestLoadOldSummary(t *testing.T) {
	sum, err := LoadSummary(filepath.Join("..", "results", "reference-2core-single"))
	if err != nil {
		t.Fatal(err)
	}
	if sum.S == nil || sum.S.S <= 0 || sum.S.Mode != BaselineMode {
		t.Fatalf("S = %+v, want standard's", sum.S)
	}
	std, ok := sum.Mode(BaselineMode)
	if !ok {
		t.Fatal("no standard mode")
	}
	if std.WarmupJob <= 0 || std.Capacity != 1 || len(std.Levels) == 0 {
		t.Errorf("standard's first trial did not load: %+v", std.Trial)
	}
	if trials := std.Trials(); len(trials) != 1 || trials[0].RoundOf() != 1 {
		t.Errorf("trials = %d (round %d), want one, round 1", len(trials), trials[0].RoundOf())
	}
	if got := sum.RoundS(1); got != sum.S.S {
		t.Errorf("RoundS(1) = %s, want %s", got, sum.S.S)
	}
	if names := sum.OrderNames(); len(names) != len(sum.Modes) {
		t.Errorf("order of an old run = %v, want its modes", names)
	}
}

func TestTrialDir(t *testing.T) {
	if got := TrialDir("out", "shared", 1); got != filepath.Join("out", "shared") {
		t.Errorf("round 1 in %s", got)
	}
	if got := TrialDir("out", "shared", 3); got != filepath.Join("out", "shared", "round-3") {
		t.Errorf("round 3 in %s", got)
	}
}

// TestLoadJudgesStoredComparisons: a summary.json whose comparisons were
// stored without their sizes said n.s. at one round; loaded, they say
// untested there and keep what five rounds a side found.
func TestLoadJudgesStoredComparisons(t *testing.T) {
	sum, err := LoadSummary(filepath.Join("..", "results", "reference-2core"))
	if err != nil {
		t.Fatal(err)
	}
	if sum.Figures == nil {
		t.Fatal("the reference run has no stored figures")
	}
	seen := map[int]bool{}
	for _, b := range sum.Figures.Bursts {
		c := b.VsBaseline
		switch {
		case b.Mode == BaselineMode:
			if c != nil {
				t.Errorf("standard at %d compared with itself: %+v", b.Level, c)
			}
		case c == nil:
			t.Errorf("%s at %d: no comparison", b.Mode, b.Level)
		case b.Rounds == 1:
			seen[1] = true
			if !c.Untested || c.K != 1 || c.Significant {
				t.Errorf("%s at %d, one round: %+v, want untested, K 1", b.Mode, b.Level, c)
			}
		case b.Rounds == 5:
			seen[5] = true
			if c.Untested || c.K != 5 || !c.Significant {
				t.Errorf("%s at %d, five rounds: %+v, want tested, significant", b.Mode, b.Level, c)
			}
		}
	}
	if !seen[1] || !seen[5] {
		t.Errorf("rounds seen %v, want rows of 1 and of 5", seen)
	}
}
