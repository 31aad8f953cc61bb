package report

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/flipbench/flipbench/loadtest"
	"github.com/flipbench/flipbench/runfolder"
)

// keepAliveNote explains the keep-alive table's columns.
const keepAliveNote = "C clients, each sending its next request on its one persistent connection as soon as its last answer came " +
	"(autocannon's and wrk's model, a closed loop). answers/s = 2xx answers / the run's time, from the first send to the last result (requests cut at the end included); " +
	"speedup = that over the baseline's at the same C. p50 and p99 are over the answered requests only, as autocannon's: a client " +
	"never answered adds nothing to them, which is why starved (clients with no answer at all) stands beside them. " +
	"fairness = the fewest answers a client got / the most any got (1: every client served alike; 0: some client starved); " +
	"per client gives that fewest and most. unfinished: requests the run's end cut short. closes: answers that ended their connection " +
	"(Connection: close), after which the client reconnected."

// writeKeepAlive writes the keep-alive section of summary.md, if the run had
// keep-alive clients, with the keep-alive plot when plots has it.
func writeKeepAlive(b *strings.Builder, sum *runfolder.Summary, f *runfolder.Figures, plots []string) {
	var counts []int
	for _, mr := range sum.Modes {
		for _, k := range mr.KeepAlive {
			if !slices.Contains(counts, k.Clients) {
				counts = append(counts, k.Clients)
			}
		}
	}
	if len(counts) == 0 {
		return
	}
	slices.Sort(counts)
	b.WriteString("\n## Keep-alive clients\n\n")
	if rounds(sum) > 1 {
		writeKeepAliveFigures(b, sum, f)
		b.WriteString("\n" + keepAliveNote + " " + figuresNote + "\n")
		writeKeepAlivePlot(b, plots)
		return
	}
	b.WriteString("| mode | C | duration | answers | answers/s | speedup | p50 | p99 | fairness | per client | starved | errors | unfinished | closes | per worker |\n")
	b.WriteString("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|\n")
	for _, c := range counts {
		for _, mr := range sum.Modes {
			k, ok := mr.Clients(c)
			if !ok {
				continue
			}
			fmt.Fprintf(b, "| %s | %d | %s | %d | %.2f | %s | %s | %s | %.2f | %s | %d | %d | %d | %d | %s |\n",
				mr.Mode, c, k.Duration, k.Answers, k.Throughput, times(keepAliveSpeedup(sum, k)), k.Latency.Median, k.Latency.P99,
				k.Fairness, k.AnswerRange(), k.Starved, k.Errors, k.Unfinished, k.Closes, splitText(k.Workers))
		}
	}
	b.WriteString("\n" + keepAliveNote + "\n")
	writeKeepAlivePlot(b, plots)
}

// writeKeepAlivePlot links the keep-alive plot, if plots has it.
func writeKeepAlivePlot(b *strings.Builder, plots []string) {
	if slices.Contains(plots, keepAlivePlot) {
		fmt.Fprintf(b, "\n%s\n\n![keepalive](%s)\n", keepAlivePlotCaption, keepAlivePlot)
	}
}

// keepAliveSpeedup is k's throughput over standard's with as many clients; 0
// if unknown.
func keepAliveSpeedup(sum *runfolder.Summary, k loadtest.KeepAliveMetrics) float64 {
	return overStandard(sum, k.Throughput, func(std runfolder.ModeRun) (float64, bool) {
		s, ok := std.Clients(k.Clients)
		return s.Throughput, ok
	})
}

// splitText renders per-worker counts as "6/4", largest first.
func splitText(workers map[string]int) string {
	if len(workers) == 0 {
		return ""
	}
	return loadtest.Metrics{Workers: workers}.WorkerSplit()
}

// rerenderKeepAlive recomputes a keep-alive run's metrics and reports from
// its raw results in modeDir.
func rerenderKeepAlive(modeDir string, k loadtest.KeepAliveMetrics) (loadtest.KeepAliveMetrics, error) {
	name := loadtest.KeepAliveName(k.Clients)
	rs, err := loadtest.ReadResults(filepath.Join(modeDir, name+loadtest.SuffixResults))
	if err != nil {
		return k, err
	}
	l := loadtest.Closed{Clients: k.Clients, Duration: k.Duration.D(), Requests: k.PerClient}
	m := loadtest.ComputeKeepAlive(rs, l)
	m.ServerPeakRSS = k.ServerPeakRSS
	return m, loadtest.WriteKeepAliveReports(modeDir, name, rs, m)
}
