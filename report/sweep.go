package report

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/flipbench/flipbench/internal/stats"
	"github.com/flipbench/flipbench/runfolder"
)

// sweep is the modes of one sweep of a modes file that ran, by value.
type sweep struct {
	Of, Key string
	Points  []sweepPoint
}

// sweepPoint is one value of a sweep at one burst size.
type sweepPoint struct {
	Mode  string
	Value int
}

// sweepsOf returns the run's sweeps with two values or more, in report
// order.
func sweepsOf(sum *runfolder.Summary) []sweep {
	var out []sweep
	for _, m := range sum.Modes {
		sp := m.Spec.Sweep
		if sp == nil || len(m.Levels) == 0 {
			continue
		}
		i := slices.IndexFunc(out, func(s sweep) bool { return s.Of == sp.Of })
		if i < 0 {
			out = append(out, sweep{Of: sp.Of, Key: sp.Key})
			i = len(out) - 1
		}
		out[i].Points = append(out[i].Points, sweepPoint{Mode: m.Mode, Value: sp.Value})
	}
	out = slices.DeleteFunc(out, func(s sweep) bool { return len(s.Points) < 2 })
	for i := range out {
		slices.SortFunc(out[i].Points, func(a, b sweepPoint) int { return cmp.Compare(a.Value, b.Value) })
	}
	return out
}

// sweepIdeal is the throughput of value workers that scale perfectly up to
// the cores and not past them: min(value, cores) × the baseline's.
func sweepIdeal(value, cores int, base float64) float64 {
	return float64(min(value, max(cores, 1))) * base
}

// bestOf says which point gave the most throughput at n and whether its
// interval clears every other point's; "" when none ran n.
func bestOf(s sweep, f *runfolder.Figures, n int) string {
	var best runfolder.BurstFigures
	bestValue := 0
	for _, p := range s.Points {
		if b, ok := burstFigures(f, p.Mode, n); ok && b.Throughput.Median > best.Throughput.Median {
			best, bestValue = b, p.Value
		}
	}
	if bestValue == 0 {
		return ""
	}
	var overlaps []string
	for _, p := range s.Points {
		if b, ok := burstFigures(f, p.Mode, n); ok && p.Value != bestValue && b.Throughput.Hi >= best.Throughput.Lo {
			overlaps = append(overlaps, fmt.Sprint(p.Value))
		}
	}
	line := fmt.Sprintf("at N = %d the most throughput was %s = %d, %s", n, s.Key, bestValue, ivText(best.Throughput, rateText))
	if len(overlaps) == 0 {
		return line + ", its interval above every other value's"
	}
	return line + fmt.Sprintf(", but its interval overlaps that of %s = %s: not told apart with %s", s.Key, strings.Join(overlaps, ", "), roundsText(best.Throughput))
}

// roundsText says how many rounds an interval stands on.
func roundsText(iv stats.Interval) string {
	if iv.N == 1 {
		return "one round"
	}
	return fmt.Sprintf("%d rounds", iv.N)
}

// writeSweeps writes the sweeps section: per sweep and burst size, each
// value's throughput and speedup beside the ideal, and the value that gave
// the most.
func writeSweeps(b *strings.Builder, sum *runfolder.Summary, f *runfolder.Figures) {
	sweeps := sweepsOf(sum)
	if len(sweeps) == 0 {
		return
	}
	cores := sum.Env.Cores
	b.WriteString("\n## Sweeps\n\n")
	fmt.Fprintf(b, "Each value of a sweep ran as a mode of its own in the same rounds. ideal = min(value, %d cores) × %s's req/s "+
		"at the same N: workers that scale perfectly up to the cores and gain nothing past them.\n", cores, sum.BaselineName())
	for _, s := range sweeps {
		fmt.Fprintf(b, "\n### %s over {%s}\n\n", s.Of, s.Key)
		fmt.Fprintf(b, "| N | %s | mode | req/s | ideal req/s | speedup | ideal speedup |\n|---|---|---|---|---|---|---|\n", s.Key)
		var notes []string
		for _, n := range sum.Levels {
			base, haveBase := burstFigures(f, sum.BaselineName(), n)
			for _, p := range s.Points {
				bf, ok := burstFigures(f, p.Mode, n)
				if !ok {
					continue
				}
				ideal := "–"
				if haveBase {
					ideal = rateText(sweepIdeal(p.Value, cores, base.Throughput.Median))
				}
				fmt.Fprintf(b, "| %d | %d | %s | %s | %s | %s | %d× |\n", n, p.Value, p.Mode, ivText(bf.Throughput, rateText), ideal,
					speedupText(sum.BaselineName(), p.Mode, bf.Speedup, bf.VsBaseline), min(p.Value, max(cores, 1)))
			}
			if line := bestOf(s, f, n); line != "" {
				notes = append(notes, line)
			}
		}
		for _, n := range notes {
			fmt.Fprintf(b, "\n- %s.", n)
		}
		for _, p := range []string{sweepPlotName(s.Of), sweepSpeedupPlotName(s.Of)} {
			fmt.Fprintf(b, "\n\n![%s](%s)", strings.TrimSuffix(p, ".svg"), p)
		}
		b.WriteString("\n")
	}
}
