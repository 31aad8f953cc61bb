package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/flipbench/flipbench/bench"
	"github.com/flipbench/flipbench/experiment/hello"
	"github.com/flipbench/flipbench/report"
	"github.com/flipbench/flipbench/runfolder"
	"github.com/flipbench/flipbench/trial"
)

func benchCmd(stdout, stderr io.Writer) command {
	fs := newFlagSet("bench", benchUsage(), stderr)
	f := addBenchFlags(fs)
	return command{fs: fs, run: func(ctx context.Context, args []string) error {
		if len(args) > 0 {
			return usagef("unexpected arguments %q", args)
		}
		p, err := f.plan(setFlags(fs), stderr)
		if err != nil {
			return err
		}
		if *f.workload == workloadHello {
			return runWorkload(ctx, stdout, stderr, "bench -workload hello", p.hello.Out, runfolder.FileSummaryMD,
				func(ctx context.Context) (*hello.Result, error) { return hello.Run(ctx, p.hello) }, hello.Write)
		}
		name := "bench"
		if *f.workload == workloadRate {
			name = "bench -workload rate"
		}
		return runWorkload(ctx, stdout, stderr, name, p.flip.Out, runfolder.FileSummaryMD,
			func(ctx context.Context) (*runfolder.Summary, error) { return bench.Run(ctx, p.flip) }, report.Write)
	}}
}

// benchUsage is bench's -h text, before its flags.
func benchUsage() string {
	return fmt.Sprintf(`Usage: loadtest bench [flags]

Runs the comparison from the built servers (make build puts them in bin/ and
installs the Node app). Modes (* runs by default):

%s
For each mode it starts the server on port 0 of 127.0.0.1 with a fresh -tmpdir,
waits for /healthz (which says how many jobs the server runs at once), sends a
few sequential warm-up requests, fires each burst level, then stops the server
with SIGTERM and checks it exited with code 0 and left no temp files. A mode
whose program or need is missing is skipped with a one-line reason.

The run goes in rounds (-runs): each round starts every mode once, in an order
that rotates from round to round, so a drift of a shared machine falls on every
mode alike. -runs K runs every level and the keep-alive clients K times; a
level may ask for its own count: -runs 5,1000=1 runs 10 and 100 five times and
1000 once (%s by default, %s with -quick); -runs 10=5,100=5,1000=1 lists them
all (an unlisted level then runs once, and so do the keep-alive clients).

Each round has its S, the time of one job on one core: the median time between
consecutive answers of standard's bursts in the round, a burst of 10 after its
warm-up and then its levels (when standard is not asked for, a start of it
measures S from the burst of 10 alone). Every ideal makespan of the round,
ceil(N / capacity) x S, is counted in it.

After a mode's bursts come its keep-alive clients (-clients): C clients, each
sending its requests back to back on one persistent connection, the load shape
autocannon, wrk and browsers behind a proxy make, for -clients-duration (by
default 3 rounds of a fair server: 3 x ceil(C / capacity) x S, 3 s to 5 min).
summary.md gives their throughput, p50, p99, fairness (fewest answers of a
client / most) and the clients starved (never answered).

Writes into -out: env.json, summary.md, summary.json, plots (SVG), and per mode
the raw vegeta results and reports of every level. Ctrl-C stops the server and
keeps what was written. Exit code 1 if a server misbehaved.

-workload rate runs the open model alone (Artillery's arrivals, which do not
wait for answers): per mode, steps at -loads x its capacity (job slots / the
round's S), each of -arrivals-per-step arrivals, constant or poisson (-arrivals,
-seed), each on a fresh connection (-keep-alive: a pool), in the same rounds.
Latency counts from each scheduled send. summary.md gives per step the offered
rate, goodput, p50/p90/p99/max, shed 503s, failures, the server's queue time, an
ideal FIFO server's p50/p99 for the same arrivals and the measured over it; per
mode the highest offered rate whose p99 stays within -slo with nothing shed or
failed; rate-p99.svg draws p99 against offered load. Into -out (default
`+bench.DefaultRateOutDir+` for this workload). -loads adds the steps to a flip run too,
after its keep-alive clients (-quick: one step at `+runfolder.JoinLoads(bench.QuickLoads())+` x capacity).

-workload hello measures the dispatch cost instead: GET / (the pid, a hello
world) at a sustained rate (an open model, a fresh connection per request),
starting at -rate-start requests/s and multiplied by -rate-factor every -step,
until a step's p99 passes -p99-bound, a request fails or the driver cannot send
the rate (on each of -tries holds of that rate), or the next step passes
-rate-max. Per mode (by default every Go mode) its highest sustained rate and
p50/p99 at every step: summary.md, hello.json, hello-p99.svg, and per mode the
files of every step as <mode>/rate-<R>.*, into -out (default `+hello.DefaultOut+`
for this workload).`, modeTable(), bench.DefaultRuns, bench.QuickRuns)
}

// Workloads of bench.
const (
	workloadFlip  = "flip"  // bursts of jobs: the comparison
	workloadHello = "hello" // GET / at a stepped-up rate: the dispatch cost
)

// checkWorkload refuses an unknown workload and flags that belong to the
// other one.
func checkWorkload(workload string, set map[string]bool) error {
	if workload != workloadFlip && workload != workloadRate && workload != workloadHello {
		return usagef("-workload %q: want %s, %s or %s", workload, workloadFlip, workloadRate, workloadHello)
	}
	flipOrRate := []string{workloadFlip, workloadRate}
	for _, fl := range []struct {
		names     []string
		workloads []string
	}{
		{[]string{"levels", "clients", "clients-duration"}, []string{workloadFlip}},
		{[]string{"warmups", "max-rss", "runs", "loads", "arrivals-per-step", "arrivals", "seed", "keep-alive", "slo"}, flipOrRate},
		{[]string{"rate-start", "rate-factor", "rate-max", "step", "p99-bound", "tries"}, []string{workloadHello}},
	} {
		for _, n := range fl.names {
			if set[n] && !slices.Contains(fl.workloads, workload) {
				return usagef("-%s is for -workload %s, not %s", n, strings.Join(fl.workloads, " or "), workload)
			}
		}
	}
	return nil
}

func doneWord(err error) string {
	switch {
	case err == nil:
		return "done"
	case errors.Is(err, context.Canceled):
		return "interrupted"
	default:
		return "finished with problems"
	}
}

func joinInts(ns []int) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ",")
}

// modeTable lists every mode for -h, the default ones starred.
func modeTable() string {
	var b strings.Builder
	for _, m := range trial.Modes() {
		star := " "
		if m.Default {
			star = "*"
		}
		fmt.Fprintf(&b, "  %s %-18s %s\n", star, m.Name, m.About)
	}
	var sweeps []string
	for _, m := range trial.Builtin().Modes {
		if m.Sweep != nil && !slices.Contains(sweeps, m.Sweep.Of) {
			sweeps = append(sweeps, m.Sweep.Of)
			names, _ := trial.Builtin().Sweeps(m.Sweep.Of)
			fmt.Fprintf(&b, "    %-18s -sweep %s: %s\n", m.Sweep.Of, m.Sweep.Of, strings.Join(names, ", "))
		}
	}
	return b.String()
}
