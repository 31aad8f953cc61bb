package report

import (
	"fmt"
	"strings"
	"time"

	"github.com/flipbench/flipbench/internal/stats"
	"github.com/flipbench/flipbench/loadtest"
	"github.com/flipbench/flipbench/runfolder"
)

// figuresNote explains how the figures tables are written.
const figuresNote = "Every figure is the median over the rounds that ran it (K), with its interval: `[lo, hi]` is the 95 % " +
	"confidence interval of the median (order statistics, as benchstat: it needs K ≥ 6); `{lo–hi}` is the min and max, " +
	"labelled so because K < 6 gives no 95 % interval; K = 1 is one sample, no interval. ⚠ marks a noisy figure: its interval " +
	"reaches more than 5 % from the median. speedup is paired: this mode's req/s over the baseline's (standard unless a modes file names another) in the same round, minutes " +
	"apart at most. (n.s.) marks a mode whose req/s does not differ significantly from the baseline's (Mann-Whitney U, α = 0.05); " +
	"(untested, K = 3) marks one the test could not judge: with K < 4 a side no samples reach α, whatever they are. " +
	"efficiency = ideal / makespan, the ideal " +
	"ceil(N / capacity) × S counted in the S of the same round."

// writeBurstFigures writes the bursts' figures table of sum, whose figures
// are f. A mode on another engine than S's has no efficiency (–).
func writeBurstFigures(b *strings.Builder, sum *runfolder.Summary, f *runfolder.Figures) {
	b.WriteString("| mode | N | K | ok | first answer | median | p99 | makespan | req/s | efficiency | speedup | per worker |\n")
	b.WriteString("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|\n")
	for _, c := range f.Bursts {
		fmt.Fprintf(b, "| %s | %d | %d | %d/%d | %s | %s | %s | %s | %s | %s | %s | %s |\n",
			c.Mode, c.Level, c.Rounds, c.Successes, c.Requests, ivText(c.FirstAnswer, secText), ivText(c.Median, secText),
			ivText(c.P99, secText), ivText(c.Makespan, secText), ivText(c.Throughput, rateText), efficiencyIvText(f, c),
			speedupText(sum.BaselineName(), c.Mode, c.Speedup, c.VsBaseline), strings.Join(c.Splits, ", "))
	}
	b.WriteString("\n" + figuresNote + "\n")
	if note := otherEnginesNote(sum, f); note != "" {
		b.WriteString("\n" + note + "\n")
	}
	for _, c := range f.Bursts {
		if c.Efficiency.N > 0 && c.Efficiency.Lo > 1 && f.HasIdeal(c.Mode) {
			fmt.Fprintf(b, "\n> **Efficiency above 100 %% beyond its interval: %s at N = %d, %s.** No server beats the ideal; "+
				"S was measured slower than this mode's jobs ran (a busy machine during the S burst), so this round's S is suspect.\n",
				c.Mode, c.Level, ivText(c.Efficiency, pctText))
		}
	}
}

// efficiencyIvText renders c's efficiency with its interval, "–" for a mode
// on another engine than S's.
func efficiencyIvText(f *runfolder.Figures, c runfolder.BurstFigures) string {
	if !f.HasIdeal(c.Mode) {
		return "–"
	}
	return ivText(c.Efficiency, pctText)
}

// writeKeepAliveFigures writes the keep-alive clients' figures table.
func writeKeepAliveFigures(b *strings.Builder, sum *runfolder.Summary, f *runfolder.Figures) {
	b.WriteString("| mode | C | K | answers/s | speedup | p50 | p99 | fairness | starved |\n|---|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, k := range f.KeepAlive {
		fmt.Fprintf(b, "| %s | %d | %d | %s | %s | %s | %s | %s | %s |\n", k.Mode, k.Clients, k.Rounds,
			ivText(k.Throughput, rateText), speedupText(sum.BaselineName(), k.Mode, k.Speedup, k.VsBaseline), ivText(k.P50, secText),
			ivText(k.P99, secText), ivText(k.Fairness, rateText), ivText(k.Starved, countText))
	}
}

// WriteNoise writes how busy the machine was over the trials of n, and a
// warning when it was (runfolder.BusyWarning); nothing when no trial
// recorded its noise.
func WriteNoise(b *strings.Builder, n runfolder.NoiseFigures) {
	if n.OtherCores.N == 0 {
		return
	}
	fmt.Fprintf(b, "- Machine noise per trial: other processes used %s cores, steal %s, load average %s\n",
		ivRange(n.OtherCores, rateText), ivRange(n.Steal.Scale(100), func(v float64) string { return fmt.Sprintf("%.1f%%", v) }), ivRange(n.Load1, rateText))
	b.WriteString(runfolder.BusyWarning(n.Busy))
	b.WriteString("\n")
}

// ivText renders an interval as ivRange does, with ⚠ when it is noisy.
func ivText(iv stats.Interval, f func(float64) string) string {
	s := ivRange(iv, f)
	if iv.N > 1 && iv.Noisy() {
		s += " ⚠"
	}
	return s
}

// ivRange renders an interval with f: "1.2s [1.1s, 1.3s]", "{lo–hi}" for
// min–max, the bare median for one sample.
func ivRange(iv stats.Interval, f func(float64) string) string {
	switch {
	case iv.N == 0:
		return "–"
	case iv.N == 1:
		return f(iv.Median)
	case iv.MinMax:
		return fmt.Sprintf("%s {%s–%s}", f(iv.Median), f(iv.Lo), f(iv.Hi))
	}
	return fmt.Sprintf("%s [%s, %s]", f(iv.Median), f(iv.Lo), f(iv.Hi))
}

// speedupText renders a speedup, marked (n.s.) when the mode's req/s does
// not differ significantly from the baseline's, and (untested, K = k) when
// the rounds were too few for the test to tell.
func speedupText(baseline, mode string, iv stats.Interval, c *stats.Comparison) string {
	if mode == baseline {
		return "1×"
	}
	s := ivText(iv, func(v float64) string { return fmt.Sprintf("%.2f×", v) })
	switch {
	case c == nil || iv.N == 0:
	case c.Untested:
		s += fmt.Sprintf(" (untested, K = %d)", c.K)
	case !c.Significant:
		s += " (n.s.)"
	}
	return s
}

func secText(v float64) string {
	return loadtest.Duration(time.Duration(v * float64(time.Second))).String()
}

func rateText(v float64) string  { return fmt.Sprintf("%.2f", v) }
func pctText(v float64) string   { return fmt.Sprintf("%.0f%%", 100*v) }
func countText(v float64) string { return fmt.Sprintf("%.0f", v) }
