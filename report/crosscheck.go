package report

import (
	"fmt"
	"strings"

	"github.com/flipbench/flipbench/runfolder"
)

// RenderCrossCheck renders a cross-check as Markdown: per mode, autocannon's
// figures beside this project's keep-alive clients', with the same clients,
// duration and photo.
func RenderCrossCheck(cc *runfolder.CrossCheck) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Cross-check: autocannon and flipbench's keep-alive clients\n\n")
	fmt.Fprintf(&b, "%d clients (connections) for %s each, POST /flip on %s. Each cell is autocannon / flipbench.\n\n", cc.Clients, cc.Duration, cc.Image)
	b.WriteString("| mode | answers | answers/s | p50 (ms) | p99 (ms) | never answered | answers per client (fewest–most) |\n")
	b.WriteString("|---|--:|--:|--:|--:|--:|--:|\n")
	var notes []string
	for _, r := range cc.Rows {
		if r.Skipped != "" {
			fmt.Fprintf(&b, "| %s | skipped: %s | | | | | |\n", r.Mode, r.Skipped)
			continue
		}
		var a, f runfolder.ClientFigures
		if r.Autocannon != nil {
			a = r.Autocannon.ClientFigures
		}
		if r.Flipbench != nil {
			f = *r.Flipbench
		}
		pair := func(get func(runfolder.ClientFigures) string) string {
			as, fs := "–", "–"
			if r.Autocannon != nil {
				as = get(a)
			}
			if r.Flipbench != nil {
				fs = get(f)
			}
			return as + " / " + fs
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s |\n", r.Mode,
			pair(func(x runfolder.ClientFigures) string { return fmt.Sprint(x.Answers) }),
			pair(func(x runfolder.ClientFigures) string { return fmt.Sprintf("%.1f", x.Throughput) }),
			pair(func(x runfolder.ClientFigures) string { return fmt.Sprintf("%.0f", x.P50) }),
			pair(func(x runfolder.ClientFigures) string { return fmt.Sprintf("%.0f", x.P99) }),
			pair(func(x runfolder.ClientFigures) string { return fmt.Sprint(x.NeverAnswered) }),
			pair(func(x runfolder.ClientFigures) string { return countRange(x.PerClient) }))
		if r.Autocannon == nil && r.AutocannonSkipped != "" {
			notes = append(notes, fmt.Sprintf("- %s: autocannon did not run: %s", r.Mode, r.AutocannonSkipped))
		}
		for _, p := range r.Problems {
			notes = append(notes, fmt.Sprintf("- %s: problem: %s", r.Mode, p))
		}
	}
	b.WriteString("\nBoth time only the requests that were answered (p50, p99), so a client never answered " +
		"shows only in its own column; answers/s is 2xx answers per second of the run. autocannon's per-connection " +
		"counts come from its `response` event (nodeapp/crosscheck.js).\n")
	if len(notes) > 0 {
		b.WriteString("\n" + strings.Join(notes, "\n") + "\n")
	}
	if cc.Arrivals != nil {
		renderCrossArrivals(&b, cc)
	}
	var busy []string
	for _, r := range cc.Rows {
		busy = append(busy, r.Busy...)
	}
	b.WriteString(runfolder.BusyWarning(busy))
	return b.String()
}

// countRange renders the fewest and most of counts sorted fewest first.
func countRange(cs []int) string {
	if len(cs) == 0 {
		return "–"
	}
	lo, hi := cs[0], cs[0]
	for _, c := range cs {
		lo, hi = min(lo, c), max(hi, c)
	}
	return fmt.Sprintf("%d–%d", lo, hi)
}
