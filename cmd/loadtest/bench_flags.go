package main

import (
	"flag"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/flipbench/flipbench/bench"
	"github.com/flipbench/flipbench/contract"
	"github.com/flipbench/flipbench/experiment/hello"
	"github.com/flipbench/flipbench/trial"
)

// benchFlags are bench's flags, for both workloads.
type benchFlags struct {
	fs                                                      *flag.FlagSet
	sf                                                      serverFlags
	nodeApp, modes, levels, runs, clients, maxRSS, progress *string
	workload, modesFile, sweep                              *string
	quick                                                   *bool
	clientsDur, step, bound                                 *time.Duration
	rateStart, rateMax, tries                               *int
	rateFactor                                              *float64
	rate                                                    *rateFlags
}

// addBenchFlags registers bench's flags on fs.
func addBenchFlags(fs *flag.FlagSet) *benchFlags {
	return &benchFlags{
		fs:         fs,
		sf:         addServerFlags(fs, bench.DefaultOutDir),
		nodeApp:    fs.String("nodeapp", trial.DefaultNodeApp, "`folder` of the article's Node app (with node_modules)"),
		modes:      fs.String("modes", strings.Join(trial.DefaultModes(), ","), "comma-separated modes to run: "+strings.Join(trial.ModeNames(), ", ")),
		modesFile:  fs.String("modes-file", "", "TOML `file` of modes to choose from instead of the built-in ones (see README, Bench your own server); -modes defaults to its default ones"),
		sweep:      fs.String("sweep", "", "run every value of the sweep of this modes-file `table` (built in: shared-w, rr-w, clustered-w: 1 to 4 workers), after -modes (default: the baseline)"),
		levels:     fs.String("levels", joinInts(bench.DefaultLevels()), "comma-separated burst sizes"),
		runs:       fs.String("runs", bench.DefaultRuns, "rounds: `K` for every level, or per level as 5,1000=1 (see above)"),
		clients:    fs.String("clients", joinInts(bench.DefaultClients()), "comma-separated keep-alive client counts run after the bursts, or none"),
		clientsDur: fs.Duration("clients-duration", 0, "how long each keep-alive run lasts (0: 3 rounds of a fair server, 3 x ceil(C / capacity) x S, 3s to 5m)"),
		quick:      fs.Bool("quick", false, "quick preset: -image "+contract.QuickImage+" -levels "+joinInts(bench.QuickLevels())+" -clients "+joinInts(bench.QuickClients())+" -runs "+bench.QuickRuns+" (explicit flags win); two minutes at most"),
		maxRSS:     fs.String("max-rss", "", "memory guard: kill a server whose processes together hold more than this `size` (e.g. 1500MiB, 8GiB), record its burst as stopped for memory and go on (default half the machine's memory)"),
		progress:   fs.String("progress", "auto", "progress bar on stderr: auto (when stderr is a terminal), on or off"),
		workload:   fs.String("workload", workloadFlip, "what the modes serve: flip (bursts of jobs), rate (open-model steps up to and past each mode's capacity) or hello (GET / at a stepped-up rate)"),
		rateStart:  fs.Int("rate-start", hello.DefaultStartRate, "hello: requests/s of the first step"),
		rateFactor: fs.Float64("rate-factor", hello.DefaultFactor, "hello: each step's rate over the last's (above 1)"),
		rateMax:    fs.Int("rate-max", hello.DefaultMaxRate, "hello: no step goes past this many requests/s"),
		step:       fs.Duration("step", hello.DefaultStep, "hello: how long each rate is held (quick: 1s)"),
		bound:      fs.Duration("p99-bound", hello.DefaultBound, "hello: the p99 latency a sustained step stays within"),
		rate:       addRateFlags(fs),
		tries:      fs.Int("tries", hello.DefaultTries, "hello: holds of a rate before its failure counts (one hiccup of a shared machine can fail a short step)"),
	}
}

// benchPlan is what bench's flags ask for, checked: the configuration of
// either workload.
type benchPlan struct {
	flip  bench.Config
	hello hello.Config
}

// plan applies the quick preset and the workload's defaults to the flags
// not set, checks every flag and returns the run they ask for. It is the
// one place bench's flags are checked; a bad one is a usage error naming
// it.
func (f *benchFlags) plan(set map[string]bool, log io.Writer) (benchPlan, error) {
	f.applyQuick(set)
	if err := checkWorkload(*f.workload, set); err != nil {
		return benchPlan{}, err
	}
	if *f.workload == workloadHello {
		if !set["modes"] {
			*f.modes = strings.Join(hello.DefaultModes(), ",")
		}
		if !set["out"] {
			*f.sf.out = hello.DefaultOut // not a flip run's folder: it would clear its modes
		}
	}
	file := trial.Builtin()
	if *f.modesFile != "" {
		var err error
		if file, err = trial.ReadModeFile(*f.modesFile); err != nil {
			return benchPlan{}, usagef("-modes-file: %v", err)
		}
		if !set["modes"] {
			*f.modes = strings.Join(file.Defaults(), ",")
		}
	}
	if *f.sweep != "" {
		names, err := file.Sweeps(*f.sweep)
		if err != nil {
			return benchPlan{}, usagef("-sweep: %v", err)
		}
		if !set["modes"] { // the sweep's ideal and speedups are over the baseline's throughput
			*f.modes = file.Baseline
		}
		*f.modes = strings.Join(append(strings.Split(*f.modes, ","), names...), ",")
	}
	modes, err := file.Parse(*f.modes)
	if err != nil {
		return benchPlan{}, usagef("-modes: %v", err)
	}
	var levels []int
	if *f.workload == workloadRate {
		*f.clients = "none" // the sweep alone
		if !set["out"] {
			*f.sf.out = bench.DefaultRateOutDir // not a flip run's folder: it would clear its modes
		}
	} else if levels, err = bench.ParseLevels(*f.levels); err != nil {
		return benchPlan{}, usagef("-levels: %v", err)
	}
	clients, err := bench.ParseClients(*f.clients)
	if err != nil {
		return benchPlan{}, usagef("-clients: %v", err)
	}
	rate, err := f.rate.plan(*f.workload, *f.quick, set)
	if err != nil {
		return benchPlan{}, err
	}
	runs, err := bench.ParseRuns(*f.runs)
	if err != nil {
		return benchPlan{}, usagef("-runs: %v", err)
	}
	if *f.clientsDur < 0 {
		return benchPlan{}, usagef("-clients-duration %s: cannot be negative", *f.clientsDur)
	}
	if err := f.sf.check(); err != nil {
		return benchPlan{}, err
	}
	settings := f.sf.settings(f.fs, log)
	settings.NodeApp = *f.nodeApp
	if *f.modesFile != "" {
		settings.ModeFile = file
	}
	if *f.workload == workloadHello {
		if err := f.checkHello(); err != nil {
			return benchPlan{}, err
		}
		return benchPlan{hello: hello.Config{Settings: settings, Modes: modes, StartRate: *f.rateStart, Factor: *f.rateFactor,
			Step: *f.step, MaxRate: *f.rateMax, Bound: *f.bound, Tries: *f.tries, Timeout: *f.sf.timeout}}, nil
	}
	var budget uint64
	if *f.maxRSS != "" {
		if budget, err = trial.ParseSize(*f.maxRSS); err != nil {
			return benchPlan{}, usagef("-max-rss: %v", err)
		}
	}
	bar, err := progressBar(*f.progress, log)
	if err != nil {
		return benchPlan{}, err
	}
	return benchPlan{flip: bench.Config{Settings: settings, Modes: modes, Levels: levels, Clients: clients,
		ClientsDuration: *f.clientsDur, Runs: runs, Timeout: *f.sf.timeout, MaxRSS: budget, Progress: bar, Rate: rate}}, nil
}

// applyQuick sets the quick preset's values of the flags not set.
func (f *benchFlags) applyQuick(set map[string]bool) {
	if !*f.quick {
		return
	}
	for name, v := range map[string]string{
		"image": contract.QuickImage, "levels": joinInts(bench.QuickLevels()),
		"clients": joinInts(bench.QuickClients()), "runs": bench.QuickRuns, "step": time.Second.String(),
	} {
		if !set[name] {
			_ = f.fs.Set(name, v) // each value parses as its flag
		}
	}
}

// checkHello checks the hello workload's own flags.
func (f *benchFlags) checkHello() error {
	switch {
	case *f.rateStart < 1:
		return usagef("-rate-start %d: must be positive", *f.rateStart)
	case !(*f.rateFactor > 1):
		return usagef("-rate-factor %g: must be above 1", *f.rateFactor)
	case *f.rateMax < *f.rateStart:
		return usagef("-rate-max %d: below -rate-start %d", *f.rateMax, *f.rateStart)
	case *f.step <= 0:
		return usagef("-step %s: must be positive", *f.step)
	case *f.bound <= 0:
		return usagef("-p99-bound %s: must be positive", *f.bound)
	case *f.tries < 1:
		return usagef("-tries %d: need at least 1", *f.tries)
	}
	return nil
}

// progressBar is where -progress draws the bar: log, or nil for none.
func progressBar(mode string, log io.Writer) (io.Writer, error) {
	switch mode {
	case "on":
		return log, nil
	case "off":
		return nil, nil
	case "auto":
		if f, ok := log.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
			return log, nil
		}
		return nil, nil
	}
	return nil, usagef("-progress %q: want auto, on or off", mode)
}
