package runfolder

import (
	"slices"

	"github.com/flipbench/flipbench/internal/stats"
)

// judgeStored judges again the comparisons of figures stored before a
// comparison recorded its sample sizes, from the rounds of each row and of
// BaselineMode's row beside it: such a file said n.s. where the rounds were
// too few to test.
func judgeStored(f *Figures) {
	for i, b := range f.Bursts {
		j := slices.IndexFunc(f.Bursts, func(o BurstFigures) bool { return o.Mode == BaselineMode && o.Level == b.Level })
		f.Bursts[i].VsBaseline = judged(b.VsBaseline, b.Rounds, j, func(j int) int { return f.Bursts[j].Rounds })
	}
	for i, k := range f.KeepAlive {
		j := slices.IndexFunc(f.KeepAlive, func(o KeepAliveFigures) bool { return o.Mode == BaselineMode && o.Clients == k.Clients })
		f.KeepAlive[i].VsBaseline = judged(k.VsBaseline, k.Rounds, j, func(j int) int { return f.KeepAlive[j].Rounds })
	}
}

// judged is c judged on n rounds against the baseline row j's (none when j
// is -1), or c itself when it has its sizes (or is nil).
func judged(c *stats.Comparison, n, j int, rounds func(int) int) *stats.Comparison {
	if c == nil || c.K > 0 {
		return c
	}
	base := 0
	if j >= 0 {
		base = rounds(j)
	}
	v := stats.Judge(c.P, n, base)
	return &v
}
