package report

import (
	"fmt"
	"slices"
	"strings"

	"github.com/flipbench/flipbench/runfolder"
)

// RenderCompare puts two runs side by side as Markdown: for every mode and
// level both ran, A's and B's figures and the ratio B / A (below 1 means B
// was faster for times, slower for throughput). Efficiency and speedup are
// measured within each run, so they carry across noisy or different machines
// better than absolute times.
func RenderCompare(a, b *runfolder.Summary) string {
	var w strings.Builder
	fmt.Fprintf(&w, "# Compare `%s` (A) with `%s` (B)\n\n", a.Run, b.Run)
	w.WriteString("| | A | B |\n|---|---|---|\n")
	row := func(k, x, y string) { fmt.Fprintf(&w, "| %s | %s | %s |\n", k, x, y) }
	row("date", orUnknown(a.Env.Date), orUnknown(b.Env.Date))
	row("machine", fmt.Sprintf("%s, %d cores", orUnknown(a.Env.CPUModel), a.Env.Cores), fmt.Sprintf("%s, %d cores", orUnknown(b.Env.CPUModel), b.Env.Cores))
	row("commit", short(a.Env.GitCommit), short(b.Env.GitCommit))
	row("image", fmt.Sprintf("%s (%s)", orUnknown(a.Env.Image), short(a.Env.ImageSHA256)), fmt.Sprintf("%s (%s)", orUnknown(b.Env.Image), short(b.Env.ImageSHA256)))
	w.WriteString("\n")
	var warn []string
	if a.Env.ImageSHA256 != b.Env.ImageSHA256 {
		warn = append(warn, "the runs flipped different images: times are not comparable, ratios of efficiency still are")
	}
	if a.Env.Cores != b.Env.Cores || a.Env.CPUModel != b.Env.CPUModel {
		warn = append(warn, "the runs are from different machines")
	}
	for _, x := range warn {
		fmt.Fprintf(&w, "**Warning:** %s.\n\n", x)
	}

	w.WriteString("## Warm-up job time (each mode's own, not the run's S)\n\n| mode | A | B | B/A |\n|---|--:|--:|--:|\n")
	for _, name := range modeUnion(a, b) {
		ma, okA := a.Mode(name)
		mb, okB := b.Mode(name)
		if !okA || !okB || ma.Skipped != "" || mb.Skipped != "" {
			continue
		}
		fmt.Fprintf(&w, "| %s | %s | %s | %s |\n", name, ma.WarmupJob, mb.WarmupJob, ratio(float64(mb.WarmupJob), float64(ma.WarmupJob)))
	}

	w.WriteString("\n## Bursts\n\n")
	w.WriteString("| mode | N | makespan A | makespan B | B/A | median A | median B | B/A | p99 A | p99 B | B/A | req/s A | req/s B | B/A | efficiency A | efficiency B | speedup A | speedup B | ok A | ok B |\n")
	w.WriteString("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	var only []string
	fa, fb := runfolder.FiguresOf(a), runfolder.FiguresOf(b)
	for _, name := range modeUnion(a, b) {
		ma, okA := a.Mode(name)
		mb, okB := b.Mode(name)
		for _, n := range levelUnion(a, b) {
			la, inA := ma.Level(n)
			lb, inB := mb.Level(n)
			switch {
			case inA && inB:
				fmt.Fprintf(&w, "| %s | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %.2f | %.2f | %s | %s | %s | %s | %s | %d/%d | %d/%d |\n",
					name, n,
					la.Makespan, lb.Makespan, ratio(float64(lb.Makespan), float64(la.Makespan)),
					la.Latency.Median, lb.Latency.Median, ratio(float64(lb.Latency.Median), float64(la.Latency.Median)),
					la.Latency.P99, lb.Latency.P99, ratio(float64(lb.Latency.P99), float64(la.Latency.P99)),
					la.Throughput, lb.Throughput, ratio(lb.Throughput, la.Throughput),
					efficiencyText(fa, name, a.BurstIdeal(ma.Trial, la).Efficiency), efficiencyText(fb, name, b.BurstIdeal(mb.Trial, lb).Efficiency),
					times(speedup(a, la)), times(speedup(b, lb)),
					la.Successes, la.Requests, lb.Successes, lb.Requests)
			case inA && okA:
				only = append(only, fmt.Sprintf("%s n=%d only in A", name, n))
			case inB && okB:
				only = append(only, fmt.Sprintf("%s n=%d only in B", name, n))
			}
		}
	}
	if len(only) > 0 {
		w.WriteString("\nNot compared: " + strings.Join(only, ", ") + ".\n")
	}
	return w.String()
}

func modeUnion(a, b *runfolder.Summary) []string {
	var names []string
	for _, s := range []*runfolder.Summary{a, b} {
		for _, m := range s.Modes {
			if !slices.Contains(names, m.Mode) {
				names = append(names, m.Mode)
			}
		}
	}
	slices.SortStableFunc(names, a.ModeOrder)
	return names
}

func levelUnion(a, b *runfolder.Summary) []int {
	var ns []int
	for _, s := range []*runfolder.Summary{a, b} {
		for _, m := range s.Modes {
			for _, l := range m.Levels {
				if !slices.Contains(ns, l.Level) {
					ns = append(ns, l.Level)
				}
			}
		}
	}
	slices.Sort(ns)
	return ns
}

// ratio renders b/a, or "–" when a is 0.
func ratio(b, a float64) string {
	if a == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f", b/a)
}

func short(s string) string {
	if s == "" {
		return "unknown"
	}
	if len(s) > 12 {
		return s[:12]
	}
	return s
}
