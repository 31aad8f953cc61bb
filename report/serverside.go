package report

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/flipbench/flipbench/internal/monitor"
	"github.com/flipbench/flipbench/internal/stats"
	"github.com/flipbench/flipbench/loadtest"
	"github.com/flipbench/flipbench/runfolder"
)

// serverSideNote says what the client/server table compares.
const serverSideNote = "client p99 is vegeta's, from the send to the end of the answer. server p99 is the server's own " +
	"`" + monitor.MetricRequestDuration + "{route=\"/flip\"}`, the difference of two scrapes around the burst, summed over " +
	"workers and status codes, from the moment the server read the request; it is interpolated within its bucket as Prometheus's " +
	"`histogram_quantile` does, so it is only as fine as the buckets (each twice the one before, from 5 ms). " +
	"The gap is the wait the server cannot see: mostly the kernel's accept queue, where a gated cluster keeps the connections " +
	"it has no free job slot for. A single process's FIFO of admitted jobs is inside the server's time. " +
	"With more than one round each figure is the median over the rounds whose server was read; servers without histograms are left out.\n\n"

// serverSideRow is one mode's burst of n, client against server.
type serverSideRow struct {
	mode           string
	n              int
	client, server time.Duration
	count          int
	rounds         int
}

// serverSideRows are the rows of every mode and level whose server's
// histogram was read, levels first.
func serverSideRows(sum *runfolder.Summary) []serverSideRow {
	levels := slices.Clone(sum.Levels)
	slices.Sort(levels)
	var rows []serverSideRow
	for _, n := range levels {
		for _, mr := range sum.Modes {
			var client, server []time.Duration
			var counts []int64
			for _, t := range mr.Trials() {
				m, ok := t.Level(n)
				if !ok || m.Server == nil {
					continue
				}
				client = append(client, m.Latency.P99.D())
				server = append(server, m.Server.P99.D())
				counts = append(counts, int64(m.Server.Count))
			}
			if len(client) == 0 {
				continue
			}
			rows = append(rows, serverSideRow{mode: mr.Mode, n: n, client: stats.Median(client), server: stats.Median(server),
				count: int(stats.Median(counts)), rounds: len(client)})
		}
	}
	return rows
}

// writeServerSide writes client p99 against server p99 per mode and
// level, and their difference; nothing when no server's histogram was read.
func writeServerSide(b *strings.Builder, sum *runfolder.Summary) {
	rows := serverSideRows(sum)
	if len(rows) == 0 {
		return
	}
	b.WriteString("\n### What the server sees\n\n")
	b.WriteString(serverSideNote)
	b.WriteString("| mode | N | client p99 | server p99 | client − server | share unseen | server count | rounds |\n")
	b.WriteString("|---|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, r := range rows {
		gap := r.client - r.server
		share := "–"
		if r.client > 0 {
			share = pct0(max(0, float64(gap)) / float64(r.client))
		}
		fmt.Fprintf(b, "| %s | %d | %s | %s | %s | %s | %d | %d |\n",
			r.mode, r.n, loadtest.Duration(r.client), loadtest.Duration(r.server), loadtest.Duration(gap), share, r.count, r.rounds)
	}
}
