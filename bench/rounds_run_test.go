package bench

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/flipbench/flipbench/loadtest"
	"github.com/flipbench/flipbench/runfolder"
	"github.com/flipbench/flipbench/server/servertest"
)

func TestRunInRounds(t *testing.T) {
	out := filepath.Join(t.TempDir(), "run")
	cfg := testConfig(t, servertest.LinkBin(t), out, io.Discard)
	cfg.Modes, cfg.Levels, cfg.Clients = []string{"standard", "threaded"}, []int{3, 6}, nil
	cfg.Runs = Runs{Default: 2, PerLevel: map[int]int{6: 1}}
	sum, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(sum.Rounds) != 2 {
		t.Fatalf("rounds = %d, want 2", len(sum.Rounds))
	}
	if r := sum.Rounds[1]; !slices.Equal(r.Order, []string{"threaded", "standard"}) || !slices.Equal(r.Levels, []int{3}) || r.S == nil {
		t.Errorf("round 2 = %+v, want the order rotated, only n=3, its own S", r)
	}
	// Each round's S pools standard's S burst (9 gaps) with its bursts of
	// the round: 3 and 6 (2 + 5 gaps) in round 1, 3 alone in round 2.
	for i, want := range []struct {
		pooled []int
		gaps   int
	}{{[]int{3, 6}, SBurst - 1 + 2 + 5}, {[]int{3}, SBurst - 1 + 2}} {
		if s := sum.Rounds[i].S; !slices.Equal(s.Pooled, want.pooled) || s.Gaps != want.gaps {
			t.Errorf("round %d's S pooled %v in %d gaps, want %v in %d", i+1, s.Pooled, s.Gaps, want.pooled, want.gaps)
		}
	}
	for _, m := range sum.Modes {
		trials := m.Trials()
		if len(trials) != 2 || trials[1].Round != 2 || len(trials[1].Levels) != 1 || trials[1].Noise == nil {
			t.Fatalf("%s: trials %+v, want 2, the second with n=3 and its noise", m.Mode, trials)
		}
		if s := sum.TrialS(trials[1]); s != sum.Rounds[1].S.S.D() {
			t.Errorf("%s round 2 counted in %s, want round 2's S %s", m.Mode, s, sum.Rounds[1].S.S)
		}
		dir := runfolder.TrialDir(out, m.Mode, 2)
		if _, err := os.Stat(filepath.Join(dir, loadtest.BurstName(3)+loadtest.SuffixResults)); err != nil {
			t.Errorf("%s: round 2's burst not in %s: %v", m.Mode, dir, err)
		}
	}
}
