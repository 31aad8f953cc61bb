package report

import (
	"fmt"
	"path/filepath"
	"slices"

	"github.com/flipbench/flipbench/runfolder"
)

// keepAlivePlot is the name of the keep-alive clients' plot.
const keepAlivePlot = "keepalive.svg"

// keepAlivePlotCaption says what keepalive.svg draws, for summary.md.
const keepAlivePlotCaption = "Answers per second of each mode with C keep-alive clients, one group per C: the bar is the median over " +
	"the rounds, the whiskers its interval (95 %, or min–max when the rounds are fewer than six; none with one round). " +
	"A closed loop has no ideal makespan, so no ideal mark."

// keepAlivePlotFile draws keepalive.svg: every mode's answers per second with C
// keep-alive clients, one group of bars per C, each bar the median over the
// rounds with its interval as whiskers (as the figures compute them). It
// returns "" when the run had no keep-alive clients.
func keepAlivePlotFile(dir string, sum *runfolder.Summary) (string, error) {
	f := runfolder.FiguresOf(sum)
	var counts []int
	for _, k := range f.KeepAlive {
		if !slices.Contains(counts, k.Clients) {
			counts = append(counts, k.Clients)
		}
	}
	if len(counts) == 0 {
		return "", nil
	}
	slices.Sort(counts)
	cats := make([]string, len(counts))
	for i, c := range counts {
		cats[i] = fmt.Sprintf("C = %d", c)
	}
	var series []barSeries
	for i, m := range sum.Modes {
		s := barSeries{name: m.Mode, color: ModeColor(sum.OrderNames(), m.Mode, i)}
		ran := false
		for _, c := range counts {
			kf, ok := keepAliveFigures(f, m.Mode, c)
			ran = ran || ok
			s.add(kf.Throughput) // no bar where the mode did not run C
		}
		if ran {
			series = append(series, s)
		}
	}
	title := "Keep-alive clients: successful answers per second (median over the rounds)"
	return keepAlivePlot, barPlot(filepath.Join(dir, keepAlivePlot), title, "keep-alive clients", "answers / s", "ideal", cats, series)
}

// keepAliveFigures returns the figures of mode with c keep-alive clients.
func keepAliveFigures(f *runfolder.Figures, mode string, c int) (runfolder.KeepAliveFigures, bool) {
	for _, k := range f.KeepAlive {
		if k.Mode == mode && k.Clients == c {
			return k, true
		}
	}
	return runfolder.KeepAliveFigures{}, false
}
