package report

import (
	"strings"
	"testing"

	"github.com/flipbench/flipbench/internal/stats"
	"github.com/flipbench/flipbench/runfolder"
)

func TestSweepBest(t *testing.T) {
	s := sweep{Of: "shared-w", Key: "workers", Points: []sweepPoint{{"shared-w1", 1}, {"shared-w2", 2}, {"shared-w3", 3}}}
	fig := func(mode string, med, lo, hi float64) runfolder.BurstFigures {
		return runfolder.BurstFigures{Mode: mode, Level: 10, Throughput: stats.Interval{Median: med, Lo: lo, Hi: hi, N: 5}}
	}
	apart := &runfolder.Figures{Bursts: []runfolder.BurstFigures{
		fig("shared-w1", 1, 0.9, 1.1), fig("shared-w2", 2, 1.9, 2.1), fig("shared-w3", 1.8, 1.7, 1.85)}}
	if got := bestOf(s, apart, 10); !strings.Contains(got, "workers = 2") || !strings.Contains(got, "above every other value's") {
		t.Errorf("clear winner: %q", got)
	}
	near := &runfolder.Figures{Bursts: []runfolder.BurstFigures{
		fig("shared-w1", 1, 0.9, 1.1), fig("shared-w2", 2, 1.8, 2.1), fig("shared-w3", 1.95, 1.85, 2.05)}}
	if got := bestOf(s, near, 10); !strings.Contains(got, "workers = 2") || !strings.Contains(got, "overlaps that of workers = 3") {
		t.Errorf("overlap: %q", got)
	}
	if got := bestOf(s, near, 99); got != "" {
		t.Errorf("no such level: %q", got)
	}
	for _, tc := range []struct {
		v, cores int
		want     float64
	}{{1, 2, 3}, {2, 2, 6}, {4, 2, 6}, {3, 4, 9}} {
		if got := sweepIdeal(tc.v, tc.cores, 3); got != tc.want {
			t.Errorf("sweepIdeal(%d, %d, 3) = %g, want %g", tc.v, tc.cores, got, tc.want)
		}
	}
}
