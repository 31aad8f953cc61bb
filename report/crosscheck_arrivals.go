package report

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/flipbench/flipbench/runfolder"
)

// renderCrossArrivals renders the cross-check's arrivals: per mode,
// Artillery's figures beside the project's open model's at the same rate,
// duration and timeout.
func renderCrossArrivals(b *strings.Builder, cc *runfolder.CrossCheck) {
	a := cc.Arrivals
	fmt.Fprintf(b, "\n## The article's load: Artillery and flipbench's open model\n\n")
	fmt.Fprintf(b, "%g arrivals/s for %s (rate: %s), each a POST /flip on a connection of its own with a %s timeout, "+
		"on a fresh server start for each tool. Each cell is Artillery / flipbench.\n\n", a.Rate, a.Duration, a.RateFrom, a.Timeout)
	b.WriteString("| mode | 2xx answered | answers/s | p50 (ms) | p99 (ms) | non-2xx | unanswered | flipbench p99 from schedule (ms) | ideal p99 (ms) |\n")
	b.WriteString("|---|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	var notes []string
	for _, r := range cc.Rows {
		if r.Skipped != "" {
			fmt.Fprintf(b, "| %s | skipped: %s | | | | | | | |\n", r.Mode, r.Skipped)
			continue
		}
		art, open := arrivalFigures(r)
		pair := func(i int) string { return art[i] + " / " + open[i] }
		sched, ideal := "–", "–"
		if o := r.Open; o != nil {
			sched = fmt.Sprintf("%.0f", o.P99Scheduled)
			if o.IdealP99 > 0 {
				ideal = fmt.Sprintf("%.0f", o.IdealP99)
			}
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", r.Mode,
			pair(0), pair(1), pair(2), pair(3), pair(4), pair(5), sched, ideal)
		if r.Artillery == nil && r.ArtillerySkipped != "" {
			notes = append(notes, fmt.Sprintf("- %s: Artillery did not run: %s", r.Mode, r.ArtillerySkipped))
		}
		if r.Artillery != nil && len(r.Artillery.Errors) > 0 {
			notes = append(notes, fmt.Sprintf("- %s: Artillery's errors: %s", r.Mode, counts(r.Artillery.Errors)))
		}
		if o := r.Open; o != nil && (o.Behind || o.Stopped != "") {
			notes = append(notes, fmt.Sprintf("- %s: flipbench's open model: behind its schedule %t, stopped %q", r.Mode, o.Behind, o.Stopped))
		}
	}
	b.WriteString("\nBoth count answers/s as 2xx answers per second of the phase and time p50 and p99 from each " +
		"send to its answer over the 2xx answers alone, so an arrival that timed out shows only as unanswered. " +
		"flipbench's p99 from schedule counts every request from its scheduled send (a timeout as the timeout); the ideal " +
		"is a FIFO server of the mode's capacity and the run's S given the same arrivals (S is standard's job time, so for " +
		"a mode of another engine it is Go's limit, not that engine's).\n")
	if len(notes) > 0 {
		b.WriteString("\n" + strings.Join(notes, "\n") + "\n")
	}
}

// arrivalFigures are a row's Artillery and open-model cells: answered of
// requests, answers/s, p50, p99, non-2xx and unanswered; "–" where a tool
// did not run.
func arrivalFigures(r runfolder.CrossRow) (art, open [6]string) {
	art, open = [6]string{"–", "–", "–", "–", "–", "–"}, [6]string{"–", "–", "–", "–", "–", "–"}
	if a := r.Artillery; a != nil {
		art = [6]string{fmt.Sprintf("%d/%d", a.Answers, a.Requests), fmt.Sprintf("%.1f", a.Throughput),
			fmt.Sprintf("%.0f", a.P50), fmt.Sprintf("%.0f", a.P99), fmt.Sprint(a.Non2xx()), fmt.Sprint(a.Unanswered())}
	}
	if o := r.Open; o != nil {
		open = [6]string{fmt.Sprintf("%d/%d", o.Answers, o.Requests), fmt.Sprintf("%.1f", o.Throughput),
			fmt.Sprintf("%.0f", o.P50), fmt.Sprintf("%.0f", o.P99), fmt.Sprint(o.Non2xx), fmt.Sprint(o.Unanswered)}
	}
	return art, open
}

// counts renders a count map as "KEY n, KEY n" in key order.
func counts(m map[string]int) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}
