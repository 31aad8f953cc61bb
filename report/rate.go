package report

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/flipbench/flipbench/loadtest"
	"github.com/flipbench/flipbench/runfolder"
)

// rateNote says how to read the open-model tables.
const rateNote = "Each step sends its arrivals at the offered rate whatever the server does, on a fresh connection each " +
	"(unless kept alive); latency counts from each request's scheduled send, so a driver that sent late hides no wait. " +
	"The ideal is an ideal FIFO server's (the mode's capacity, the round's S) for the step's exact arrivals, made again " +
	"from the stored schedule; measured over ideal is taken round by round. Behind counts the rounds whose driver could " +
	"not keep its schedule (the server then saw other arrivals than the ideal's). A step is held when its p99 stays within " +
	"the SLO with nothing shed (503) or failed in any round and no round stopped. Every figure is the median over the " +
	"rounds with its interval: `[lo, hi]` the 95 % confidence interval, `{lo–hi}` min–max with fewer than 6 rounds."

// writeRates writes the open-model section of summary.md, if the run had a
// sweep: each mode's capacity at the SLO, every step's figures and the plot.
func writeRates(b *strings.Builder, sum *runfolder.Summary, plots []string) {
	f := runfolder.FiguresOf(sum)
	figs := f.Rates
	if len(figs) == 0 {
		return
	}
	p, slo := sum.Rate, runfolder.RateSLO(sum)
	b.WriteString("\n## Open model: arrivals that do not wait\n\n")
	conns := "a fresh connection per arrival"
	if p.KeepAlive {
		conns = "a kept-alive pool"
	}
	seed := ""
	if p.Arrivals == loadtest.ArrivalsPoisson {
		seed = fmt.Sprintf(" (seed %d, step i draws from seed + i)", p.Seed)
	}
	fmt.Fprintf(b, "Steps at %s × each mode's capacity (job slots / S), %d %s arrivals each%s, %s. SLO: p99 ≤ %s (%s).\n\n",
		runfolder.JoinLoads(p.Loads), p.ArrivalsPerStep, p.Arrivals, seed, conns, sloText(slo), p.SLO)
	b.WriteString("| mode | capacity at the SLO (arrivals/s) | as load | highest goodput (answers/s) |\n|---|--:|--:|--:|\n")
	for _, c := range f.Capacity {
		held, load := "none held", "–"
		if c.HeldRate > 0 {
			held, load = rateText(c.HeldRate), fmt.Sprintf("%g ×", c.HeldLoad)
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s |\n", c.Mode, held, load, rateText(c.MaxGoodput))
	}
	b.WriteString("\n| mode | load | offered/s | goodput/s | p50 | p90 | p99 | max | ideal p50 | ideal p99 | p50 / ideal | p99 / ideal | server queue p50 | shed | failed | behind | held |\n")
	b.WriteString("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|\n")
	for _, f := range figs {
		held := "yes"
		switch {
		case len(f.Stopped) > 0:
			held = "stopped: " + strings.Join(slices.Compact(slices.Sorted(slices.Values(f.Stopped))), ", ")
		case !f.Held(slo):
			held = "no"
		}
		fmt.Fprintf(b, "| %s | %g | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %d | %d | %d | %s |\n",
			f.Mode, f.Load, ivText(f.Offered, rateText), ivText(f.Goodput, rateText), ivText(f.P50, secText), ivText(f.P90, secText),
			ivText(f.P99, secText), ivText(f.Max, secText), ivText(f.IdealP50, secText), ivText(f.IdealP99, secText),
			ivText(f.P50Ratio, ratioText), ivText(f.P99Ratio, ratioText), ivText(f.Queue, secText), f.Shed, f.Failed, f.Behind, held)
	}
	b.WriteString("\n" + rateNote + "\n")
	if slices.Contains(plots, ratePlot) {
		fmt.Fprintf(b, "\n%s\n\n![rate](%s)\n", ratePlotCaption, ratePlot)
	}
}

func ratioText(v float64) string { return fmt.Sprintf("%.2f", v) }

// sloText renders the SLO's bound, "unknown" when it is a multiple of an S
// the run did not measure.
func sloText(slo time.Duration) string {
	if slo.Seconds() <= 0 {
		return "unknown (no S)"
	}
	return secText(slo.Seconds())
}
