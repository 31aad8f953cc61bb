package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/flipbench/flipbench/bench"
	"github.com/flipbench/flipbench/contract"
	"github.com/flipbench/flipbench/experiment/hello"
	"github.com/flipbench/flipbench/report"
	"github.com/flipbench/flipbench/runfolder"
	"github.com/flipbench/flipbench/trial"
)

func benchCmd(stdout, stderr io.Writer) command {
	fs := newFlagSet("bench", fmt.Sprintf(`Usage: loadtest bench [flags]

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

-workload hello measures the dispatch cost instead: GET / (the pid, a hello
world) at a sustained rate (an open model, a fresh connection per request),
starting at -rate-start requests/s and multiplied by -rate-factor every -step,
until a step's p99 passes -p99-bound, a request fails or the driver cannot send
the rate (on each of -tries holds of that rate), or the next step passes
-rate-max. Per mode (by default every Go mode) its highest sustained rate and
p50/p99 at every step: summary.md, hello.json, hello-p99.svg, and per mode the
files of every step as <mode>/rate-<R>.*, into -out (default `+hello.DefaultOut+`
for this workload).`, modeTable(), bench.DefaultRuns, bench.QuickRuns), stderr)
	sf := addServerFlags(fs, bench.DefaultOutDir)
	image, out, timeout := sf.image, sf.out, sf.timeout
	var (
		nodeApp    = fs.String("nodeapp", trial.DefaultNodeApp, "`folder` of the article's Node app (with node_modules)")
		modes      = fs.String("modes", strings.Join(trial.DefaultModes(), ","), "comma-separated modes to run: "+strings.Join(trial.ModeNames(), ", "))
		levels     = fs.String("levels", joinInts(bench.DefaultLevels()), "comma-separated burst sizes")
		runs       = fs.String("runs", bench.DefaultRuns, "rounds: `K` for every level, or per level as 5,1000=1 (see above)")
		clients    = fs.String("clients", joinInts(bench.DefaultClients()), "comma-separated keep-alive client counts run after the bursts, or none")
		clientsDur = fs.Duration("clients-duration", 0, "how long each keep-alive run lasts (0: 3 rounds of a fair server, 3 x ceil(C / capacity) x S, 3s to 5m)")
		quick      = fs.Bool("quick", false, "quick preset: -image "+contract.QuickImage+" -levels "+joinInts(bench.QuickLevels())+" -clients "+joinInts(bench.QuickClients())+" -runs "+bench.QuickRuns+" (explicit flags win); two minutes at most")
		maxRSS     = fs.String("max-rss", "", "memory guard: kill a server whose processes together hold more than this `size` (e.g. 1500MiB, 8GiB), record its burst as stopped for memory and go on (default half the machine's memory)")
		progress   = fs.String("progress", "auto", "progress bar on stderr: auto (when stderr is a terminal), on or off")
		workload   = fs.String("workload", workloadFlip, "what the modes serve: flip (bursts of jobs) or hello (GET / at a stepped-up rate)")
		rateStart  = fs.Int("rate-start", hello.DefaultStartRate, "hello: requests/s of the first step")
		rateFactor = fs.Float64("rate-factor", hello.DefaultFactor, "hello: each step's rate over the last's (above 1)")
		rateMax    = fs.Int("rate-max", hello.DefaultMaxRate, "hello: no step goes past this many requests/s")
		step       = fs.Duration("step", hello.DefaultStep, "hello: how long each rate is held (quick: 1s)")
		bound      = fs.Duration("p99-bound", hello.DefaultBound, "hello: the p99 latency a sustained step stays within")
		tries      = fs.Int("tries", hello.DefaultTries, "hello: holds of a rate before its failure counts (one hiccup of a shared machine can fail a short step)")
	)
	return command{fs: fs, run: func(ctx context.Context, args []string) error {
		if len(args) > 0 {
			return usagef("unexpected arguments %q", args)
		}
		set := setFlags(fs)
		if *quick {
			if !set["image"] {
				*image = contract.QuickImage
			}
			if !set["levels"] {
				*levels = joinInts(bench.QuickLevels())
			}
			if !set["clients"] {
				*clients = joinInts(bench.QuickClients())
			}
			if !set["runs"] {
				*runs = bench.QuickRuns
			}
			if !set["step"] {
				*step = time.Second
			}
		}
		if err := checkWorkload(*workload, set); err != nil {
			return err
		}
		if *workload == workloadHello && !set["modes"] {
			*modes = strings.Join(hello.DefaultModes(), ",")
		}
		if *workload == workloadHello && !set["out"] {
			*out = hello.DefaultOut // not a flip run's folder: it would clear its modes
		}
		modeList, err := trial.ParseModes(*modes)
		if err != nil {
			return usagef("-modes: %v", err)
		}
		levelList, err := bench.ParseLevels(*levels)
		if err != nil {
			return usagef("-levels: %v", err)
		}
		clientList, err := bench.ParseClients(*clients)
		if err != nil {
			return usagef("-clients: %v", err)
		}
		runList, err := bench.ParseRuns(*runs)
		if err != nil {
			return usagef("-runs: %v", err)
		}
		if *clientsDur < 0 {
			return usagef("-clients-duration %s: cannot be negative", *clientsDur)
		}
		if err := sf.check(); err != nil {
			return err
		}
		settings := sf.settings(fs, stderr)
		settings.NodeApp = *nodeApp
		if *workload == workloadHello {
			switch {
			case *rateStart < 1:
				return usagef("-rate-start %d: must be positive", *rateStart)
			case !(*rateFactor > 1):
				return usagef("-rate-factor %g: must be above 1", *rateFactor)
			case *rateMax < *rateStart:
				return usagef("-rate-max %d: below -rate-start %d", *rateMax, *rateStart)
			case *step <= 0:
				return usagef("-step %s: must be positive", *step)
			case *bound <= 0:
				return usagef("-p99-bound %s: must be positive", *bound)
			case *tries < 1:
				return usagef("-tries %d: need at least 1", *tries)
			}
			start := time.Now()
			run, err := hello.Run(ctx, hello.Config{
				Settings: settings,
				Modes:    modeList, StartRate: *rateStart, Factor: *rateFactor, Step: *step, MaxRate: *rateMax, Bound: *bound, Tries: *tries,
				Timeout: *timeout,
			})
			if run == nil {
				return err
			}
			return finish(ctx, stdout, stderr, "bench -workload hello", start, filepath.Join(*out, runfolder.FileSummaryMD), err,
				hello.Write(*out, run))
		}
		var budget uint64
		if *maxRSS != "" {
			if budget, err = trial.ParseSize(*maxRSS); err != nil {
				return usagef("-max-rss: %v", err)
			}
		}
		var bar io.Writer
		switch *progress {
		case "on":
			bar = stderr
		case "off":
		case "auto":
			if f, ok := stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
				bar = stderr
			}
		default:
			return usagef("-progress %q: want auto, on or off", *progress)
		}

		start := time.Now()
		cfg := bench.Config{
			Settings: settings, Modes: modeList, Levels: levelList,
			Clients: clientList, ClientsDuration: *clientsDur, Runs: runList,
			Timeout: *timeout, MaxRSS: budget, Progress: bar,
		}
		sum, err := bench.Run(ctx, cfg)
		if sum != nil {
			if rerr := report.Write(*out, sum); rerr != nil {
				err = errors.Join(err, rerr)
			}
			fmt.Fprintf(stderr, "bench: %s in %s; summary in %s\n", doneWord(err), time.Since(start).Round(time.Second), filepath.Join(*out, runfolder.FileSummaryMD))
		}
		if err != nil && sum != nil && !errors.Is(err, trial.ErrProblems) && ctx.Err() == nil {
			return err
		}
		if sum != nil && ctx.Err() == nil {
			if md, rerr := os.ReadFile(filepath.Join(*out, runfolder.FileSummaryMD)); rerr == nil {
				_, _ = stdout.Write(md)
			}
		}
		return err
	}}
}

// Workloads of bench.
const (
	workloadFlip  = "flip"  // bursts of jobs: the comparison
	workloadHello = "hello" // GET / at a stepped-up rate: the dispatch cost
)

// checkWorkload refuses an unknown workload and flags that belong to the
// other one.
func checkWorkload(workload string, set map[string]bool) error {
	only := map[string][]string{
		workloadFlip:  {"levels", "warmups", "max-rss", "clients", "clients-duration", "runs"},
		workloadHello: {"rate-start", "rate-factor", "rate-max", "step", "p99-bound", "tries"},
	}
	if _, ok := only[workload]; !ok {
		return usagef("-workload %q: want %s or %s", workload, workloadFlip, workloadHello)
	}
	for w, names := range only {
		for _, n := range names {
			if w != workload && set[n] {
				return usagef("-%s is for -workload %s, not %s", n, w, workload)
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
	return b.String()
}
