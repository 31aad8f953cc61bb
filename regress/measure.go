package regress

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/flipbench/flipbench/internal/stats"
	"github.com/flipbench/flipbench/loadtest"
	"github.com/flipbench/flipbench/runfolder"
)

// Metric names, as results/baseline.json keys them.
const (
	MetricJobBytes          = "job_bytes_per_op"
	MetricJobAllocs         = "job_allocs_per_op"
	MetricJobOverFloor      = "job_time_over_jpeg_floor"
	MetricStandardEff       = "standard_efficiency"
	MetricClusterSpeedup    = "cluster_speedup_per_core"
	MetricClusterSmallBurst = "cluster_small_burst_over_ideal"
	MetricQueuedOverhead    = "queued_over_shared_makespan"
	MetricHTTPOverhead      = "http_overhead"
	MetricPeakRSSPerJobPeak = "standard_rss_burst_over_one_job"
	MetricClusterKeepAlive  = "cluster_keepalive_served_share"
	MetricClusterEvenSplit  = "cluster_even_split_share"
	MetricVipsOverImaging   = "vips_job_over_imaging_job"
)

// Config says what the gate measures and how often.
type Config struct {
	BinDir       string // the built server binaries
	Image        string // the small photo
	Out          string // folder for every run and the table
	Runs         int    // repeats of the served measurements; the median counts
	BenchCount   int    // go test runs of the job and floor benchmarks
	Tags         string // build tags for the Go benchmark (the injected slowdown)
	Burst        int    // burst for the standard efficiency
	SpeedupBurst int    // burst for the cluster's speedup
	SmallBurst   int    // burst for the cluster's makespan over the ideal
	RSSBurst     int    // burst for the peak RSS
	// KeepAliveClients is how many keep-alive clients load the cluster for
	// the share of them it answers.
	KeepAliveClients int
	// SplitBurst is the burst the cluster takes SplitBursts times a run,
	// each on a fresh start, for the share of them it splits evenly.
	SplitBurst  int
	SplitBursts int
	Cores       int      // cores the cluster should use
	ClusterArgs []string // extra flags for the cluster (an injected fault)
	QueuedArgs  []string // extra flags for the queued front (an injected fault)
	// Only are the metrics to measure (ParseMetrics), nil for every one:
	// the run then does only what they need.
	Only        []string
	Log         io.Writer
	JobBenchPkg string // package of the job benchmarks
	// Serve runs one served run (cmd/regress passes bench's runner), so
	// the gate reads run folders without importing the runner.
	Serve Serve
	// Split fires one run's split bursts (cmd/regress passes the balance
	// experiment); without it the even-split share is missing.
	Split Split
	// RateArrivals is how many arrivals the open-model step sends, at
	// RateLoad × the cores' capacity (0: DefaultRateLoad).
	RateArrivals int
	RateLoad     float64
}

// SplitRun is what one run of split bursts fires: Bursts bursts of Size at
// Mode, each on a fresh start of its server, Args appended to its command
// line, into the folder Dir.
type SplitRun struct {
	Dir    string
	Mode   string
	Size   int
	Bursts int
	Args   []string
}

// Split fires a SplitRun and returns, for every burst, the answers of each
// worker (a worker that answered none may be left out).
type Split func(ctx context.Context, run SplitRun) ([][]int, error)

// ServedRun is what one served run fires: the modes, levels and keep-alive
// clients, into its own run folder.
type ServedRun struct {
	Dir      string
	Modes    []string
	Levels   []int
	Clients  []int
	ModeArgs map[string][]string
	// Rate is the open-model step (nil: none), its rate set by
	// RateCapacity slots rather than each server's reported capacity.
	Rate         *runfolder.RatePlan
	RateCapacity int
}

// Serve runs a served run and returns its summary (rendered into its folder).
type Serve func(ctx context.Context, run ServedRun) (*runfolder.Summary, error)

// Measure runs the Go benchmark and cfg.Runs served runs and returns each
// metric's median, with every run's raw values: of cfg.Only's metrics, with
// only what they need measured, or of every metric.
func Measure(ctx context.Context, cfg Config) (now map[string]float64, samples map[string][]float64, err error) {
	samples = map[string][]float64{}
	if err := os.MkdirAll(cfg.Out, 0o755); err != nil {
		return nil, nil, fmt.Errorf("output folder: %w", err)
	}
	p := cfg.plan()
	if p.jobBench {
		if err := jobMetrics(ctx, cfg, samples); err != nil {
			return nil, nil, err
		}
	}
	if p.engineBench {
		if err := engineMetric(ctx, cfg, samples); err != nil {
			return nil, nil, err
		}
	}
	for i := range cfg.Runs {
		if err := measureRun(ctx, cfg, p, i+1, samples); err != nil {
			return nil, nil, err
		}
	}

	now = map[string]float64{}
	for metric, vals := range samples {
		if !slices.Contains(cfg.metrics(), metric) {
			delete(samples, metric) // measured beside one asked for
			continue
		}
		now[metric] = stats.Median(vals)
	}
	return now, samples, nil
}

// measureRun adds the samples of run k of p's served run and split bursts.
func measureRun(ctx context.Context, cfg Config, p plan, k int, samples map[string][]float64) error {
	if len(p.modes) > 0 {
		fmt.Fprintf(cfg.Log, "served run %d of %d: %s, bursts %v\n", k, cfg.Runs, strings.Join(p.modes, ", "), p.levels)
		run := ServedRun{Dir: filepath.Join(cfg.Out, "run-"+strconv.Itoa(k)), Modes: p.modes, Levels: p.levels,
			ModeArgs: map[string][]string{modeCluster: cfg.ClusterArgs, modeQueued: cfg.QueuedArgs}}
		if p.clients && cfg.KeepAliveClients > 0 {
			run.Clients = []int{cfg.KeepAliveClients}
		}
		if p.rate {
			run.Rate, run.RateCapacity = cfg.ratePlan(), cfg.Cores
			fmt.Fprintf(cfg.Log, "  and a step of %d constant arrivals at %g × %d cores / S\n", cfg.RateArrivals, cfg.rateLoad(), cfg.Cores)
		}
		sum, err := cfg.Serve(ctx, run)
		if err != nil {
			return fmt.Errorf("served run %d: %w", k, err)
		}
		for metric, v := range servedMetrics(sum, cfg) {
			samples[metric] = append(samples[metric], v)
		}
	}
	if !p.split || cfg.Split == nil {
		return nil // without Split the even-split share is missing, which Check reports
	}
	fmt.Fprintf(cfg.Log, "split run %d of %d: %d bursts of %d on %s, each on a fresh start\n", k, cfg.Runs, cfg.SplitBursts, cfg.SplitBurst, modeCluster)
	splits, err := cfg.Split(ctx, SplitRun{Dir: filepath.Join(cfg.Out, "split-"+strconv.Itoa(k)), Mode: modeCluster,
		Size: cfg.SplitBurst, Bursts: cfg.SplitBursts, Args: cfg.ClusterArgs})
	if err != nil {
		return fmt.Errorf("split run %d: %w", k, err)
	}
	samples[MetricClusterEvenSplit] = append(samples[MetricClusterEvenSplit], EvenShare(splits, cfg.SplitBurst, cfg.Cores))
	return nil
}

// jobMetrics runs the job and floor benchmarks cfg.BenchCount times and
// adds their metrics to samples.
func jobMetrics(ctx context.Context, cfg Config, samples map[string][]float64) error {
	fmt.Fprintf(cfg.Log, "go benchmarks %s and %s, %d times\n", JobBenchmark, FloorBenchmark, cfg.BenchCount)
	// One go test per pair, not -count: each job result is then divided by a
	// floor measured seconds later, not a minute later, so a neighbour's load
	// that comes and goes touches both.
	var out []byte
	for range cfg.BenchCount {
		o, err := RunGoBench(ctx, cfg.JobBenchPkg, benchPattern, 1, cfg.Tags)
		if err != nil {
			return err
		}
		out = append(out, o...)
	}
	if err := os.WriteFile(filepath.Join(cfg.Out, "jobbench.txt"), out, 0o644); err != nil {
		return fmt.Errorf("write benchmark output: %w", err)
	}
	return benchMetrics(out, samples)
}

// benchMetrics adds the Go benchmark metrics of go test output to samples. The
// time ratio pairs the i-th job result with the i-th floor result.
func benchMetrics(out []byte, samples map[string][]float64) error {
	for metric, unit := range map[string]string{MetricJobBytes: "B/op", MetricJobAllocs: "allocs/op"} {
		vals, err := BenchValues(bytes.NewReader(out), JobBenchmark, unit)
		if err != nil {
			return err
		}
		samples[metric] = vals
	}
	ratios, err := timeRatios(out, JobBenchmark, FloorBenchmark)
	if err != nil {
		return err
	}
	samples[MetricJobOverFloor] = ratios
	return nil
}

// engineMetric adds the libvips job's time over imaging's, each pair from one go test
// run of a libvips build. Without libvips (pkg-config finds no vips) it measures
// nothing and says so: the gate then reports the metric missing rather than pass a
// build that cannot run the engine.
func engineMetric(ctx context.Context, cfg Config, samples map[string][]float64) error {
	if err := exec.CommandContext(ctx, "pkg-config", "--exists", "vips").Run(); err != nil {
		fmt.Fprintf(cfg.Log, "no libvips (pkg-config --exists vips: %v): %s not measured; install libvips-dev\n", err, MetricVipsOverImaging)
		return nil
	}
	tags := strings.Trim(VipsTag+","+cfg.Tags, ",")
	fmt.Fprintf(cfg.Log, "go benchmarks %s and %s (-tags %s), %d times\n", VipsJobBenchmark, ImagingJobBenchmark, tags, cfg.BenchCount)
	var out []byte
	for range cfg.BenchCount {
		o, err := RunGoBench(ctx, cfg.JobBenchPkg, engineBenchPattern, 1, tags)
		if err != nil {
			return err
		}
		out = append(out, o...)
	}
	if err := os.WriteFile(filepath.Join(cfg.Out, "enginebench.txt"), out, 0o644); err != nil {
		return fmt.Errorf("write engine benchmark output: %w", err)
	}
	ratios, err := timeRatios(out, VipsJobBenchmark, ImagingJobBenchmark)
	if err != nil {
		return err
	}
	samples[MetricVipsOverImaging] = ratios
	return nil
}

// timeRatios divides the i-th time of benchmark num by the i-th of den, in go test
// output where each run printed one of each.
func timeRatios(out []byte, num, den string) ([]float64, error) {
	n, err := BenchValues(bytes.NewReader(out), num, "sec/op")
	if err != nil {
		return nil, err
	}
	d, err := BenchValues(bytes.NewReader(out), den, "sec/op")
	if err != nil {
		return nil, err
	}
	if len(n) != len(d) {
		return nil, fmt.Errorf("%d results of %s but %d of %s", len(n), num, len(d), den)
	}
	ratios := make([]float64, len(n))
	for i := range n {
		ratios[i] = n[i] / d[i]
	}
	return ratios, nil
}

// The modes the gate measures. The cluster is a load-aware one (a worker
// takes a connection only with a free job slot), so a single run's speedup
// and small-burst makespan depend on the code, not on how a hash happened to
// split a burst.
const (
	modeStandard = runfolder.BaselineMode
	modeCluster  = "shared"
	modeQueued   = "queued"
)

// EvenShare is the share of bursts of n that cores workers split evenly: all
// n answered and no worker answered more than one more than another. A core
// without a worker counts as one that answered none, so a cluster short of
// workers does not set its own bar. A count, not a time: a cluster without
// its gate deals a burst to whichever worker wakes first, and a time ratio
// of one such burst is even or not by chance (the gate's -balance none read
// 1.12 to 2.08 times the ideal at a burst of 20), where the share of many
// bursts is not.
func EvenShare(splits [][]int, n, cores int) float64 {
	if len(splits) == 0 {
		return math.NaN()
	}
	even := 0
	for _, split := range splits {
		counts := slices.Clone(split)
		for len(counts) < cores {
			counts = append(counts, 0)
		}
		sum := 0
		for _, c := range counts {
			sum += c
		}
		if sum == n && slices.Max(counts)-slices.Min(counts) <= 1 {
			even++
		}
	}
	return float64(even) / float64(len(splits))
}

// servedMetrics computes the served metrics of one run; a metric whose inputs are
// missing is NaN, which Check reports as missing.
func servedMetrics(sum *runfolder.Summary, cfg Config) map[string]float64 {
	m := map[string]float64{
		MetricStandardEff:       math.NaN(),
		MetricClusterSpeedup:    math.NaN(),
		MetricClusterSmallBurst: math.NaN(),
		MetricQueuedOverhead:    math.NaN(),
		MetricHTTPOverhead:      math.NaN(),
		MetricPeakRSSPerJobPeak: math.NaN(),
		MetricClusterKeepAlive:  math.NaN(),
	}
	// A mode the run did not serve is a zero ModeRun: it has no levels.
	std, _ := sum.Mode(modeStandard)
	clu, _ := sum.Mode(modeCluster)
	queued, _ := sum.Mode(modeQueued)
	if l, ok := std.Level(cfg.Burst); ok && l.Successes == l.Requests {
		m[MetricStandardEff] = sum.BurstIdeal(std.Trial, l).Efficiency
	}
	c, cok := clu.Level(cfg.SpeedupBurst)
	cok = cok && c.Successes == c.Requests
	if l, ok := std.Level(cfg.SpeedupBurst); ok && cok && l.Successes == l.Requests && l.Throughput > 0 {
		// The cluster is meant to use every core: a cluster that runs
		// fewer workers than cores shows here.
		m[MetricClusterSpeedup] = c.Throughput / l.Throughput / float64(cfg.Cores)
	}
	if small, ok := clu.Level(cfg.SmallBurst); ok && sum.S != nil && small.Successes == small.Requests {
		// The ideal on every core, not on the capacity the cluster
		// reports: a cluster short of workers must not set its own bar.
		ideal := loadtest.IdealMakespan(cfg.SmallBurst, cfg.Cores, sum.S.S.D())
		m[MetricClusterSmallBurst] = float64(small.Makespan) / float64(ideal)
	}
	// The queued front and its workers against the same cores' cluster,
	// in one run: what the broker's hops cost.
	if ql, ok := queued.Level(cfg.SpeedupBurst); ok && cok && c.Makespan > 0 && ql.Successes == ql.Requests {
		m[MetricQueuedOverhead] = float64(ql.Makespan) / float64(c.Makespan)
	}
	if k, ok := clu.Clients(cfg.KeepAliveClients); ok && k.Clients > 0 {
		// A count over C, not a time: a cluster that leaves a persistent
		// client waiting the whole run (a gate that counts connections,
		// not work) shows here on any machine.
		m[MetricClusterKeepAlive] = float64(k.Clients-k.Starved) / float64(k.Clients)
	}
	if l, ok := std.Level(1); ok && l.Successes == 1 && l.JobTime.Median > 0 {
		m[MetricHTTPOverhead] = float64(l.Latency.Median) / float64(l.JobTime.Median)
	}
	if l, ok := std.Level(cfg.RSSBurst); ok && std.WarmupHWM > 0 && l.ServerHWM > 0 {
		m[MetricPeakRSSPerJobPeak] = float64(l.ServerHWM) / float64(std.WarmupHWM)
	}
	m[MetricClusterRateP99] = rateMetric(sum, cfg)
	return m
}
