package report

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/flipbench/flipbench/internal/monitor"
	"github.com/flipbench/flipbench/internal/promhist"
	"github.com/flipbench/flipbench/internal/stats"
	"github.com/flipbench/flipbench/loadtest"
	"github.com/flipbench/flipbench/runfolder"
)

// serverSideNote says what the client/server table compares.
const serverSideNote = "client p99 is vegeta's, from the send to the end of the answer. server p99 is the server's own " +
	"`" + monitor.MetricRequestDuration + "{route=\"/flip\"}`, the difference of two scrapes around the burst, summed over " +
	"workers and status codes, from the moment the server read the request; it is interpolated within its bucket as Prometheus's " +
	"`histogram_quantile` does, so it is only as fine as the buckets (each twice the one before, from 5 ms). " +
	"client − server is the wait the server cannot see: mostly the kernel's accept queue, where a gated cluster keeps the connections " +
	"it has no free job slot for; a single process's FIFO of admitted jobs is inside the server's time. " +
	"Since the server's p99 is only known to its bucket, unseen, at least is the client's p99 less the top of that bucket: " +
	"the wait that is outside the server's view whatever the interpolation says (0 when the client's p99 is within the bucket). " +
	"With more than one round each figure is the median over the rounds whose server was read; servers without histograms are left out.\n\n"

// serverSideRow is one mode's burst of n, client against server.
type serverSideRow struct {
	mode           string
	n              int
	client, server time.Duration
	unseen         time.Duration // client less the top of the server p99's bucket, at least 0
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
			var client, server, unseen []time.Duration
			var counts []int64
			for _, t := range mr.Trials() {
				m, ok := t.Level(n)
				if !ok || m.Server == nil {
					continue
				}
				client = append(client, m.Latency.P99.D())
				server = append(server, m.Server.P99.D())
				unseen = append(unseen, unseenAtLeast(m))
				counts = append(counts, int64(m.Server.Count))
			}
			if len(client) == 0 {
				continue
			}
			rows = append(rows, serverSideRow{mode: mr.Mode, n: n, client: stats.Median(client), server: stats.Median(server), unseen: stats.Median(unseen),
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
	b.WriteString("| mode | N | client p99 | server p99 | client − server | unseen, at least | share of client p99 | server count | rounds |\n")
	b.WriteString("|---|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, r := range rows {
		share := "–"
		if r.client > 0 {
			share = pct0(float64(r.unseen) / float64(r.client))
		}
		fmt.Fprintf(b, "| %s | %d | %s | %s | %s | %s | %s | %d | %d |\n",
			r.mode, r.n, loadtest.Duration(r.client), loadtest.Duration(r.server), signed(r.client-r.server),
			loadtest.Duration(r.unseen), share, r.count, r.rounds)
	}
}

// unseenAtLeast is m's client p99 less the top of the bucket its server
// p99 lies in, at least 0: the part of the wait that is surely outside the
// server's view.
func unseenAtLeast(m loadtest.Metrics) time.Duration {
	h := promhist.Histogram{Bounds: m.Server.Bounds}
	i := h.BucketOf(m.Server.P99.D().Seconds())
	if i >= len(h.Bounds) {
		return 0 // the +Inf bucket has no top
	}
	top := time.Duration(h.Bounds[i] * float64(time.Second))
	return max(0, m.Latency.P99.D()-top)
}

// signed renders d with its sign, rounded as loadtest.Duration rounds.
func signed(d time.Duration) string {
	if d < 0 {
		return "−" + loadtest.Duration(-d).String()
	}
	return loadtest.Duration(d).String()
}
