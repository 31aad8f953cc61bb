// Command regress is the performance gate: it measures what carries across noisy
// machines (allocations per job, and ratios measured within one run), compares the
// medians with results/baseline.json and exits 1 when any metric regressed past
// its tolerance. -write-baseline stores the measured medians as the new baseline.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/flipbench/flipbench/bench"
	"github.com/flipbench/flipbench/contract"
	"github.com/flipbench/flipbench/experiment/balance"
	"github.com/flipbench/flipbench/loadtest"
	"github.com/flipbench/flipbench/regress"
	"github.com/flipbench/flipbench/report"
	"github.com/flipbench/flipbench/runfolder"
	"github.com/flipbench/flipbench/trial"
)

// Exit codes.
const (
	exitPass      = 0
	exitRegressed = 1
	exitUsage     = 2
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("regress", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: regress [flags]

Measures, on the small photo:
  job_bytes_per_op, job_allocs_per_op   go test -bench BenchmarkJob/photo-1mp -benchmem
  job_time_over_jpeg_floor              its time over BenchmarkJPEGFloor/photo-1mp's, same go test run
  standard_efficiency                   ideal / measured makespan, standard, burst -burst
  cluster_speedup_per_core              shared cluster / standard throughput at -speedup-burst, per core
  cluster_small_burst_over_ideal        shared cluster's makespan at -small-burst over the ideal on -cores
  queued_over_shared_makespan           queued's makespan at -speedup-burst over the shared cluster's
  http_overhead                         latency / server job time at concurrency 1
  standard_rss_burst_over_one_job       standard's peak RSS after -rss-burst / after warm-up
  cluster_keepalive_served_share        share of -keepalive-clients keep-alive clients the shared
                                        cluster answered at least once (1: none starved)
  cluster_even_split_share              share of -split-bursts bursts of -split-burst, each on a fresh
                                        start of the shared cluster, split evenly over -cores workers
  cluster_rate_p99_over_ideal           shared cluster's p99 (from each scheduled send) over the ideal
                                        FIFO p99 on -cores with each job as long as the cluster said,
                                        -rate-arrivals constant arrivals at -rate-load x -cores / S
                                        (an open model: arrivals that do not wait)
takes the median of -runs served runs, prints a table against -baseline and exits
1 if any metric is worse than its tolerance allows (2 for bad flags). -only
measures and checks just the metrics named, with only what they need run (a
proof that the gate catches a fault measures the metrics the fault must break);
with -write-baseline it remeasures those metrics in the baseline there is and
keeps the rest.

Flags:
`)
		fs.PrintDefaults()
	}
	var (
		baselinePath = fs.String("baseline", "results/baseline.json", "baseline `file`")
		write        = fs.Bool("write-baseline", false, "store the measured medians and their samples as the baseline (keeping tolerances) instead of checking")
		bin          = fs.String("bin", trial.DefaultBinDir, "`folder` of the server binaries")
		image        = fs.String("image", contract.QuickImage, "photo the servers flip")
		out          = fs.String("out", "results/regress", "`folder` for every run, the benchmark output and the table")
		runs         = fs.Int("runs", 5, "served runs; the median counts")
		count        = fs.Int("count", 5, "go test runs of the job and floor benchmarks; the median counts")
		tags         = fs.String("tags", "", "build tags for the Go benchmark (flipbench_slowdown injects a slower job)")
		burst        = fs.Int("burst", 20, "burst for the standard efficiency")
		speedupBurst = fs.Int("speedup-burst", 100, "burst for the cluster's speedup")
		smallBurst   = fs.Int("small-burst", 20, "burst for the cluster's makespan over the ideal")
		rssBurst     = fs.Int("rss-burst", 100, "burst for the peak RSS")
		kaClients    = fs.Int("keepalive-clients", 10, "keep-alive clients loading the cluster (each on one persistent connection)")
		splitBurst   = fs.Int("split-burst", 4, "burst the cluster must split evenly")
		splitBursts  = fs.Int("split-bursts", 20, "bursts of -split-burst per run, each on a fresh start of the cluster")
		rateArrivals = fs.Int("rate-arrivals", 50, "arrivals of the cluster's open-model step")
		rateLoad     = fs.Float64("rate-load", regress.DefaultRateLoad, "the open-model step's rate, a fraction of -cores / S")
		cores        = fs.Int("cores", runtime.NumCPU(), "cores the cluster should use")
		queuedArgs   = fs.String("queued-args", "", "extra flags for the queued front, space-separated (\"--workers=1\" injects a front short of workers)")
		clusterArgs  = fs.String("cluster-args", "", "extra flags for the cluster, space-separated (\"-workers 1\" injects a cluster short of workers, \"-balance none\" one without its gate)")
		onlyList     = fs.String("only", "", "measure and check only these `metrics`, comma-separated (default every one)")
	)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitPass
		}
		return exitUsage
	}
	switch {
	case fs.NArg() > 0:
		fmt.Fprintf(stderr, "regress: unexpected arguments %q\n", fs.Args())
		return exitUsage
	case *runs < 1 || *count < 1:
		fmt.Fprintln(stderr, "regress: -runs and -count must be at least 1")
		return exitUsage
	case *burst < 2 || *speedupBurst < 2 || *smallBurst < 2 || *rssBurst < 2:
		fmt.Fprintln(stderr, "regress: -burst, -speedup-burst, -small-burst and -rss-burst must be at least 2")
		return exitUsage
	case *cores < 1:
		fmt.Fprintln(stderr, "regress: -cores must be at least 1")
		return exitUsage
	case *kaClients < 2:
		fmt.Fprintln(stderr, "regress: -keepalive-clients must be at least 2")
		return exitUsage
	case *splitBurst < 2 || *splitBursts < 1:
		fmt.Fprintln(stderr, "regress: -split-burst must be at least 2 and -split-bursts at least 1")
		return exitUsage
	case *rateArrivals < 2 || *rateArrivals > loadtest.MaxArrivals:
		fmt.Fprintf(stderr, "regress: -rate-arrivals must be 2 to %d\n", loadtest.MaxArrivals)
		return exitUsage
	case !(*rateLoad > 0 && *rateLoad <= 2):
		fmt.Fprintln(stderr, "regress: -rate-load must be above 0 and at most 2")
		return exitUsage
	}
	var only []string
	if *onlyList != "" {
		var err error
		if only, err = regress.ParseMetrics(*onlyList); err != nil {
			fmt.Fprintf(stderr, "regress: -only: %v\n", err)
			return exitUsage
		}
	}
	// -write-baseline with -only remeasures those metrics in the baseline
	// there is; without -only it makes a whole one.
	var base, old regress.Baseline
	if !*write || only != nil {
		var err error
		if old, err = regress.Load(*baselinePath); err != nil {
			fmt.Fprintf(stderr, "regress: %v (make baseline writes one)\n", err)
			return exitUsage
		}
		base = old.Only(only)
	}

	start := time.Now()
	cfg := regress.Config{
		BinDir: *bin, Image: *image, Out: *out, Runs: *runs, BenchCount: *count, Tags: *tags,
		Burst: *burst, SpeedupBurst: *speedupBurst, SmallBurst: *smallBurst, RSSBurst: *rssBurst, Cores: *cores, KeepAliveClients: *kaClients, SplitBurst: *splitBurst, SplitBursts: *splitBursts, RateArrivals: *rateArrivals, RateLoad: *rateLoad, ClusterArgs: strings.Fields(*clusterArgs), QueuedArgs: strings.Fields(*queuedArgs), Only: only,
		Log: stderr, JobBenchPkg: "./job", Serve: serve(*bin, *image, *cores, stderr), Split: split(trial.Settings{BinDir: *bin, Image: *image, Cores: *cores, Log: stderr}),
	}
	now, samples, err := regress.Measure(ctx, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "regress: %v\n", err)
		return exitRegressed
	}
	if err := writeJSON(filepath.Join(*out, "samples.json"), samples); err != nil {
		// A run that could not be measured leaves a NaN, which JSON cannot
		// hold: the table below still says which metric is missing.
		fmt.Fprintf(stderr, "regress: %v\n", err)
	}

	if *write {
		note := fmt.Sprintf("measured by make baseline on %s, %d cores, %s; medians of %d runs", time.Now().UTC().Format(time.DateOnly), runtime.NumCPU(), runtime.Version(), *runs)
		var b regress.Baseline
		if only != nil {
			b, err = old.With(only, now, samples, note+", alone (-only)")
		} else {
			b, err = regress.NewBaseline(now, samples, note, *baselinePath)
		}
		if err == nil {
			err = b.Save(*baselinePath)
		}
		if err != nil {
			fmt.Fprintf(stderr, "regress: %v\n", err)
			return exitRegressed
		}
		fmt.Fprintf(stdout, "wrote %s\n", *baselinePath)
		base = b.Only(only)
	}
	verdicts, ok := regress.Check(base, now, samples)
	if err := regress.Render(stdout, verdicts); err != nil {
		fmt.Fprintf(stderr, "regress: %v\n", err)
		return exitRegressed
	}
	if err := writeJSON(filepath.Join(*out, "verdicts.json"), verdicts); err != nil {
		fmt.Fprintf(stderr, "regress: %v\n", err)
	}
	fmt.Fprintf(stdout, "measured in %s; runs in %s\n", time.Since(start).Round(time.Second), *out)
	if !ok {
		fmt.Fprintln(stdout, "FAIL: performance regressed (see REGRESSED or MISSING above)")
		return exitRegressed
	}
	fmt.Fprintln(stdout, "PASS")
	return exitPass
}

// split is the gate's split bursts: the balance experiment on the policy
// its mode serves, with srv's servers, its summary rendered into the run's
// folder.
func split(srv trial.Settings) regress.Split {
	return func(ctx context.Context, run regress.SplitRun) ([][]int, error) {
		policy, ok := balance.PolicyOf(run.Mode)
		if !ok {
			return nil, fmt.Errorf("no balance policy is served by mode %s", run.Mode)
		}
		srv.Out = run.Dir
		res, err := balance.Run(ctx, balance.Config{
			Settings: srv, Policies: []string{policy}, Sizes: []int{run.Size}, Runs: run.Bursts, Args: run.Args,
		})
		if res != nil {
			_, werr := balance.Write(run.Dir, res)
			err = errors.Join(err, werr)
		}
		if err != nil {
			return nil, err
		}
		var splits [][]int
		for _, pr := range res.Policies {
			if pr.Skipped != "" {
				return nil, fmt.Errorf("%s: %s", pr.Balance, pr.Skipped)
			}
			for _, t := range pr.Trials {
				splits = append(splits, t.Split)
			}
		}
		return splits, nil
	}
}

func writeJSON(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", path, err)
	}
	if err := os.WriteFile(path, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// serve is the gate's served run: bench's runner, one round, its summary
// rendered into the run's folder.
func serve(bin, image string, cores int, log io.Writer) regress.Serve {
	return func(ctx context.Context, run regress.ServedRun) (*runfolder.Summary, error) {
		sum, err := bench.Run(ctx, bench.Config{
			Settings: trial.Settings{BinDir: bin, ModeArgs: run.ModeArgs, Image: image, Out: run.Dir, Cores: cores, Log: log},
			Modes:    run.Modes, Levels: run.Levels, Clients: run.Clients, Rate: run.Rate, RateCapacity: run.RateCapacity,
		})
		if sum != nil {
			_, werr := report.Write(run.Dir, sum)
			err = errors.Join(err, werr)
		}
		return sum, err
	}
}
