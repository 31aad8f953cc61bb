package bench

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"github.com/flipbench/flipbench/runfolder"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/flipbench/flipbench/internal/procfs"
	"github.com/flipbench/flipbench/internal/progress"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/flipbench/flipbench/contract"
	"github.com/flipbench/flipbench/internal/spawn"
	"github.com/flipbench/flipbench/loadtest"
)

// Defaults of a Config.
const (
	DefaultBinDir       = "bin"
	DefaultNodeApp      = "nodeapp"
	DefaultOutDir       = "results/latest"
	DefaultWarmups      = 5
	DefaultStartTimeout = 60 * time.Second
	DefaultStopTimeout  = 60 * time.Second
)

// DefaultLevels returns the burst sizes of a full bench.
func DefaultLevels() []int { return []int{10, 100, 1000} }

// QuickLevels returns the burst sizes of the quick preset.
func QuickLevels() []int { return []int{10, 100} }

// DefaultClients returns the keep-alive client counts of a full bench.
func DefaultClients() []int { return []int{10, 100} }

// QuickClients returns the keep-alive client counts of the quick preset.
func QuickClients() []int { return []int{10} }

// How long keep-alive clients run when Config.ClientsDuration is 0: long
// enough for every client of a fair server to get KeepAliveRounds answers,
// ceil(C / capacity) × S each, within bounds.
const (
	KeepAliveRounds = 3
	MinKeepAlive    = 3 * time.Second
	MaxKeepAlive    = 5 * time.Minute
)

// KeepAliveDuration is how long c keep-alive clients run on a server of
// capacity jobs of time s: KeepAliveRounds rounds of a fair server, so a
// client starved by the server, not by a short run, is what Starved counts.
func KeepAliveDuration(c, capacity int, s time.Duration) time.Duration {
	d := KeepAliveRounds * loadtest.IdealMakespan(c, capacity, s)
	return min(max(d, MinKeepAlive), MaxKeepAlive).Round(time.Second)
}

// ErrProblems is wrapped by the error Run returns when every mode ran but
// some did not behave (a bad exit code, files left behind, failed warm-up).
var ErrProblems = errors.New("bench found problems")

// Config is what Run does; zero values take the defaults noted.
type Config struct {
	BinDir  string   // the Go server binaries; DefaultBinDir
	NodeApp string   // the article's Node app; DefaultNodeApp
	Modes   []string // names, in order; DefaultModes()
	Levels  []int    // burst sizes; DefaultLevels()
	// Clients are the keep-alive client counts run after the bursts (none
	// when empty; the command line's default is DefaultClients()), each
	// for ClientsDuration (0: KeepAliveDuration per mode).
	Clients         []int
	ClientsDuration time.Duration
	Image           string // the photo the servers flip; contract.DefaultImage
	Out             string // the run folder; DefaultOutDir
	// Timeout is the client timeout of every burst request; 0 picks one per
	// level, 3 × the ideal makespan + 1 minute.
	Timeout      time.Duration
	Warmups      int           // sequential requests per mode before its bursts; DefaultWarmups
	Cores        int           // the core count modes size themselves by; runtime.NumCPU()
	StartTimeout time.Duration // the wait for /healthz; DefaultStartTimeout
	StopTimeout  time.Duration // the wait for an exit after SIGTERM; DefaultStopTimeout
	Progress     io.Writer     // a progress bar with an ETA; nil draws none
	Log          io.Writer     // one line per step; nil discards
	ServerEnv    []string      // KEY=VALUE added to every server's environment
	// MaxRSS is the memory guard's budget: when a server's processes
	// together hold more, its process group is killed, the burst is
	// recorded as stopped for memory, and the run goes on with the next
	// mode. 0 is DefaultMaxRSSShare of the machine's memory.
	MaxRSS uint64
	// ModeArgs appends flags to a mode's command line; a flag given twice
	// takes its last value, so this overrides the mode's own (the gate
	// injects a one-worker cluster this way).
	ModeArgs map[string][]string
	// Flags and Args are the command line, recorded in env.json.
	Flags map[string]string
	Args  []string
}

func (c *Config) fill() {
	c.BinDir = cmp.Or(c.BinDir, DefaultBinDir)
	c.NodeApp = cmp.Or(c.NodeApp, DefaultNodeApp)
	c.Image = cmp.Or(c.Image, contract.DefaultImage)
	c.Out = cmp.Or(c.Out, DefaultOutDir)
	if c.Modes == nil {
		c.Modes = DefaultModes()
	}
	if c.Levels == nil {
		c.Levels = DefaultLevels()
	}
	if c.Warmups == 0 {
		c.Warmups = DefaultWarmups
	}
	if c.Cores == 0 {
		c.Cores = runtime.NumCPU()
	}
	if c.StartTimeout == 0 {
		c.StartTimeout = DefaultStartTimeout
	}
	if c.StopTimeout == 0 {
		c.StopTimeout = DefaultStopTimeout
	}
	if c.Log == nil {
		c.Log = io.Discard
	}
	if c.MaxRSS == 0 {
		c.MaxRSS = uint64(DefaultMaxRSSShare * float64(procfs.MemTotal()))
	}
}

func (c *Config) validate() error {
	if len(c.Modes) == 0 {
		return errors.New("no modes to run")
	}
	for _, m := range c.Modes {
		if _, err := LookupMode(m); err != nil {
			return err
		}
	}
	if len(c.Levels) == 0 {
		return errors.New("no levels to run")
	}
	for _, n := range c.Levels {
		if n < 1 || n > loadtest.MaxLevel {
			return fmt.Errorf("level %d out of range (1 to %d)", n, loadtest.MaxLevel)
		}
	}
	for _, n := range c.Clients {
		if err := (loadtest.Closed{Clients: n, Requests: 1}).Validate(); err != nil {
			return err
		}
	}
	if c.ClientsDuration < 0 {
		return fmt.Errorf("keep-alive duration %s is negative", c.ClientsDuration)
	}
	switch {
	case c.Warmups < 1:
		return fmt.Errorf("warm-ups: need at least 1 to calibrate, got %d", c.Warmups)
	case c.Cores < 1:
		return fmt.Errorf("cores: need at least 1, got %d", c.Cores)
	case c.Timeout < 0:
		return fmt.Errorf("timeout %s is negative", c.Timeout)
	case c.StartTimeout < 0 || c.StopTimeout < 0:
		return errors.New("start and stop timeouts must be positive")
	}
	if fi, err := os.Stat(c.Image); err != nil {
		return fmt.Errorf("image: %w", err)
	} else if fi.IsDir() {
		return fmt.Errorf("image %s is a folder", c.Image)
	}
	return nil
}

// Run starts every mode's server in turn, fires each burst at it and writes
// the run folder's data: env.json, summary.json and per mode its mode.json,
// server log and level files (report.Write renders summary.md and the
// plots). It returns the summary and an error that wraps ErrProblems when a
// server misbehaved, or ctx's error when it was cancelled (the server of the
// moment is stopped first, and the files written so far are kept).
//
// A run has one S, the time of one job on one core, from a calibration burst
// on runfolder.BaselineMode after its warm-up: it runs first, or, when it is not
// asked for, only its warm-up and calibration run. Every mode's ideal
// makespan is counted in that S, so efficiencies compare across modes.
func Run(ctx context.Context, c Config) (*runfolder.Summary, error) {
	c.fill()
	if err := c.validate(); err != nil {
		return nil, err
	}
	place := Place{BinDir: c.BinDir, NodeApp: c.NodeApp, Cores: c.Cores}

	// Resolve the modes; one whose need is missing is skipped.
	var specs []Spec
	var runs []runfolder.ModeRun
	bins := map[string]string{}
	for _, name := range c.Modes {
		spec, err := Resolve(name, place, c.ModeArgs[name])
		if err != nil {
			fmt.Fprintf(c.Log, "skip %s: %v\n", name, err)
			runs = append(runs, runfolder.ModeRun{Mode: name, Spec: spec, Skipped: err.Error()})
			continue
		}
		specs = append(specs, spec)
		bins[spec.Name] = spec.Binary
	}
	if len(specs) == 0 {
		return nil, fmt.Errorf("no mode can run here: %s", runs[0].Skipped)
	}
	calib, onlyCalibrate := planCalibration(specs, place)
	if i := slices.IndexFunc(specs, func(s Spec) bool { return s.Name == runfolder.BaselineMode }); i > 0 {
		first := specs[i]
		specs = slices.Insert(slices.Delete(specs, i, i+1), 0, first)
	}

	image, err := filepath.Abs(c.Image)
	if err != nil {
		return nil, fmt.Errorf("image: %w", err)
	}
	env, err := CollectEnv(ctx, c.Image)
	if err != nil {
		return nil, err
	}
	env.Binaries = BinarySums(bins)
	env.Flags, env.Args = c.Flags, c.Args
	if err := prepareOut(c.Out, c.Modes); err != nil {
		return nil, err
	}
	if err := loadtest.WriteJSON(filepath.Join(c.Out, runfolder.FileEnv), env); err != nil {
		return nil, err
	}

	sp := spawn.New()
	defer sp.Close() // after every server has been stopped: see startServer
	sum := &runfolder.Summary{Run: filepath.Base(filepath.Clean(c.Out)), Env: env, Levels: c.Levels, Clients: c.Clients, Order: ModeNames(), Modes: runs}
	names := make([]string, len(specs))
	for i, s := range specs {
		names[i] = s.Name
	}
	tr := progress.New(c.Progress, c.Log, names, c.Levels, c.Warmups)
	b := &runner{c: c, sp: sp, image: image, tr: tr}
	if onlyCalibrate {
		cal, err := b.calibrateOnly(ctx, calib)
		if err != nil {
			tr.Finish(false)
			return sum, errors.Join(err, runfolder.WriteSummary(c.Out, sum))
		}
		sum.S = cal
	}
	var problems []string
	for i, spec := range specs {
		run, err := b.mode(ctx, spec, i, sum)
		sum.Modes = append(sum.Modes, run)
		for _, p := range run.Problems {
			problems = append(problems, spec.Name+": "+p)
		}
		if werr := loadtest.WriteJSON(filepath.Join(c.Out, spec.Name, runfolder.FileMode), run); werr != nil {
			err = errors.Join(err, werr)
		}
		if err != nil {
			tr.Finish(false)
			return sum, errors.Join(err, runfolder.WriteSummary(c.Out, sum))
		}
	}
	tr.Finish(true)
	if err := runfolder.WriteSummary(c.Out, sum); err != nil {
		return sum, err
	}
	if len(problems) > 0 {
		return sum, fmt.Errorf("%w:\n  %s", ErrProblems, strings.Join(problems, "\n  "))
	}
	return sum, nil
}

// planCalibration returns the spec of runfolder.BaselineMode, and whether it must be
// started just for its warm-up (it is not among specs but can run here).
func planCalibration(specs []Spec, place Place) (Spec, bool) {
	for _, s := range specs {
		if s.Name == runfolder.BaselineMode {
			return s, false
		}
	}
	mode, err := LookupMode(runfolder.BaselineMode)
	if err != nil {
		return Spec{}, false
	}
	spec, err := mode.Command(place)
	return spec, err == nil
}

// runner is one Run's shared state.
type runner struct {
	c     Config
	sp    *spawn.Spawner
	image string
	tr    *progress.Tracker
}

// prepareOut makes the run folder and clears what a previous run of these
// modes left in it: only folders and files bench itself writes. A mode path
// that holds something else (say -out bin, where bin/standard is a binary)
// is an error, not deleted.
func prepareOut(out string, modes []string) error {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return fmt.Errorf("output folder: %w", err)
	}
	for _, m := range modes {
		dir := filepath.Join(out, m)
		fi, err := os.Lstat(dir)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("output folder: %w", err)
		}
		if !fi.IsDir() || !isModeDir(dir) {
			return fmt.Errorf("output folder: %s exists and is not a bench mode folder; choose another -out", dir)
		}
		if err := os.RemoveAll(dir); err != nil {
			return fmt.Errorf("output folder: %w", err)
		}
	}
	old, _ := filepath.Glob(filepath.Join(out, "*.svg"))
	pngs, _ := filepath.Glob(filepath.Join(out, "*.png"))
	old = append(append(old, pngs...), filepath.Join(out, runfolder.FileSummaryMD), filepath.Join(out, runfolder.FileSummaryJSON))
	if err := os.RemoveAll(filepath.Join(out, runfolder.DirS)); err != nil {
		return fmt.Errorf("output folder: %w", err)
	}
	for _, f := range old {
		if err := os.Remove(f); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("output folder: %w", err)
		}
	}
	return nil
}

// isModeDir reports whether dir looks like a mode folder bench wrote: empty,
// or holding its mode.json or server.log.
func isModeDir(dir string) bool {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	if len(entries) == 0 {
		return true
	}
	for _, f := range []string{runfolder.FileMode, runfolder.FileServerLog} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			return true
		}
	}
	return false
}

// calibrateOnly starts runfolder.BaselineMode's server for its warm-up alone, into
// the run folder's calibration/ (no mode.json: it is not a mode of the run).
func (b *runner) calibrateOnly(ctx context.Context, spec Spec) (*runfolder.RunS, error) {
	b.tr.Logf("calibration: %s is not in this run; its warm-up alone gives the run's S", spec.Name)
	sum := &runfolder.Summary{}
	run, err := b.serve(ctx, spec, filepath.Join(b.c.Out, runfolder.DirS), -1, nil, sum)
	if err != nil {
		return nil, err
	}
	if sum.S == nil {
		return nil, fmt.Errorf("calibration on %s failed: %s", spec.Name, strings.Join(run.Problems, "; "))
	}
	if len(run.Problems) > 0 {
		return nil, fmt.Errorf("%w: calibration on %s: %s", ErrProblems, spec.Name, strings.Join(run.Problems, "; "))
	}
	return sum.S, nil
}

// mode runs one mode of the run from start to stop.
func (b *runner) mode(ctx context.Context, spec Spec, idx int, sum *runfolder.Summary) (runfolder.ModeRun, error) {
	return b.serve(ctx, spec, filepath.Join(b.c.Out, spec.Name), idx, b.c.Levels, sum)
}

// serve starts spec's server, warms it up, fires levels at it and stops it,
// writing into dir. The first warm-up of runfolder.BaselineMode sets
// sum.S. idx is the mode's place in the progress tracker (-1: not
// tracked). Problems with the server go to run.Problems; the error is for
// cancellation and for failing to write files.
func (b *runner) serve(ctx context.Context, spec Spec, dir string, idx int, levels []int, sum *runfolder.Summary) (run runfolder.ModeRun, err error) {
	c, tr := b.c, b.tr
	run = runfolder.ModeRun{Mode: spec.Name, Spec: spec}
	run.ExitCode = -1
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return run, fmt.Errorf("%s: %w", spec.Name, err)
	}
	answered := 0
	count := func() {
		if ctx.Err() != nil {
			tr.Halt()
			return
		}
		answered++
		if idx >= 0 {
			tr.Add()
		}
	}
	problem := func(format string, args ...any) {
		msg := fmt.Sprintf(format, args...)
		run.Problems = append(run.Problems, msg)
		tr.Logf("%s: problem: %s", spec.Name, msg)
	}

	srv, err := startServer(b.sp, spec, b.image, filepath.Join(dir, runfolder.FileServerLog), c.ServerEnv)
	if err != nil {
		problem("%v", err)
		if idx >= 0 {
			tr.Skip(0)
		}
		return run, nil
	}
	run.PID = srv.pid
	tr.Logf("%s: started %s %s (pid %d)", spec.Name, spec.Binary, strings.Join(spec.Args, " "), srv.pid)
	defer func() {
		res := srv.stop(c.StopTimeout)
		run.ExitCode, run.Killed, run.Survivors, run.Leftovers = res.ExitCode, res.Killed, res.Survivors, res.Leftovers
		if ctx.Err() != nil {
			tr.Logf("%s: stopped (exit code %d)", spec.Name, res.ExitCode)
			return
		}
		for _, p := range res.problems(c.StopTimeout, filepath.Join(dir, runfolder.FileServerLog), run.MemoryStop != nil) {
			problem("%s", p)
		}
		if len(run.Problems) == 0 && run.MemoryStop == nil {
			tr.Logf("%s: stopped cleanly (exit code 0, no temp files left)", spec.Name)
		}
	}()
	defer func() {
		if idx >= 0 && len(run.Levels) < len(levels) {
			tr.Skip(answered)
		}
	}()

	h, raw, err := srv.waitHealthy(ctx, c.StartTimeout)
	if err != nil {
		if ctx.Err() != nil {
			return run, ctx.Err()
		}
		problem("%v", err)
		return run, nil
	}
	run.Addr, run.Health = srv.addr, raw
	run.Capacity = h.TotalCapacity()
	run.Spec.Capacity, run.Spec.Workers = run.Capacity, max(h.Workers, 1)

	if idx >= 0 {
		tr.Begin(idx, -1)
	}
	warm, jobs, err := warmUp(ctx, srv.url(contract.PathFlip), c.Warmups, c.Timeout, count)
	for _, d := range warm {
		run.Warmup = append(run.Warmup, loadtest.Duration(d))
	}
	if len(jobs) > 0 {
		run.ServerJob = loadtest.Duration(loadtest.Median(jobs))
	}
	if err != nil {
		if ctx.Err() != nil {
			return run, ctx.Err()
		}
		problem("warm-up: %v", err)
		return run, nil
	}
	own := Calibrate(warm)
	run.WarmupJob = loadtest.Duration(own)
	run.IdleRSS = procfs.GroupRSS(srv.pid)
	run.WarmupHWM = procfs.GroupHWM(srv.pid)
	if sum.S == nil && spec.Name == runfolder.BaselineMode {
		cal, err := calibrationBurst(ctx, srv.url(contract.PathFlip), own)
		if err != nil {
			if ctx.Err() != nil {
				return run, ctx.Err()
			}
			problem("calibration burst: %v", err)
			return run, nil
		}
		cal.Mode, cal.Warmup = spec.Name, run.Warmup
		sum.S = cal
	}
	s := own // when no runfolder.BaselineMode could run, each mode counts in its own
	if sum.S != nil {
		s = sum.S.S.D()
	}
	if idx >= 0 {
		tr.Calibrated(idx, run.Capacity, s)
	}
	tr.Logf("%s: healthy, capacity %d, own warm-up S = %s (median of %d sequential requests), run S = %s",
		spec.Name, run.Capacity, loadtest.Duration(own), len(warm), loadtest.Duration(s))

	tgt := vegeta.Target{Method: http.MethodPost, URL: srv.url(contract.PathFlip)}
	for j, n := range levels {
		timeout := c.Timeout
		if timeout == 0 {
			// The slower of the two S: a Node job takes several Go jobs' time.
			timeout = AutoTimeout(n, run.Capacity, max(s, own))
		}
		tr.Begin(idx, j)
		name := loadtest.BurstName(n)
		var got atomic.Int64
		mem := watchMemory(srv.pid, memInterval, c.MaxRSS, n, func() int { return n - int(got.Load()) })
		rs, aerr := loadtest.Burst(ctx, tgt, n,
			loadtest.WithTimeout(timeout),
			loadtest.WithName(spec.Name+"/"+name),
			loadtest.WithOnResult(func(*vegeta.Result) { got.Add(1); count() }),
		)
		rss, stopped := mem.end()
		if stopped != nil {
			run.MemoryStop = stopped
			tr.Logf("%s: %s; its process group was killed, on to the next mode", spec.Name, stopped)
		}
		if aerr != nil && ctx.Err() == nil {
			problem("burst of %d: %v", n, aerr)
			return run, nil
		}
		m := loadtest.Compute(rs, loadtest.Params{Capacity: run.Capacity, Calibration: s, Timeout: timeout})
		m.Level, m.ServerPeakRSS, m.ServerHWM = n, rss, procfs.GroupHWM(srv.pid)
		if stopped != nil {
			m.Efficiency = 0 // a burst cut short has no makespan to compare
		}
		if ctx.Err() != nil {
			// Keep what the interrupted burst gathered, under its own name.
			_ = loadtest.WriteLevel(dir, name+"-interrupted", rs, m)
			return run, ctx.Err()
		}
		if err := loadtest.WriteLevel(dir, name, rs, m); err != nil {
			return run, fmt.Errorf("%s: %w", spec.Name, err)
		}
		run.Levels = append(run.Levels, m)
		tr.Logf("%s", levelLine(spec.Name, m))
		if srv.exited() {
			return run, nil // the stop reports it
		}
	}
	if idx < 0 {
		return run, nil // a calibration-only start
	}
	return run, b.keepAlive(ctx, srv, dir, &run, max(s, own), problem)
}

// keepAlive runs each of the run's keep-alive client counts at srv, after its
// bursts, into run.KeepAlive and dir. s is the job time a duration is counted
// in.
func (b *runner) keepAlive(ctx context.Context, srv *server, dir string, run *runfolder.ModeRun, s time.Duration, problem func(string, ...any)) error {
	tgt := vegeta.Target{Method: http.MethodPost, URL: srv.url(contract.PathFlip)}
	for _, c := range b.c.Clients {
		l := loadtest.Closed{Clients: c, Duration: b.c.ClientsDuration}
		if l.Duration == 0 {
			l.Duration = KeepAliveDuration(c, run.Capacity, s)
		}
		b.tr.Logf("%s: %s", run.Mode, l)
		name := loadtest.KeepAliveName(c)
		mem := watchMemory(srv.pid, memInterval, b.c.MaxRSS, c, func() int { return c })
		rs, err := loadtest.KeepAlive(ctx, tgt, l, loadtest.WithTimeout(l.Duration+time.Minute), loadtest.WithName(run.Mode+"/"+name))
		rss, stopped := mem.end()
		if err != nil && ctx.Err() == nil {
			problem("%s: %v", l, err)
			return nil
		}
		m := loadtest.ComputeKeepAlive(rs, l)
		m.ServerPeakRSS = rss
		if ctx.Err() != nil {
			_ = loadtest.WriteKeepAlive(dir, name+"-interrupted", rs, m)
			return ctx.Err()
		}
		if err := loadtest.WriteKeepAlive(dir, name, rs, m); err != nil {
			return fmt.Errorf("%s: %w", run.Mode, err)
		}
		run.KeepAlive = append(run.KeepAlive, m)
		b.tr.Logf("%s", keepAliveLine(run.Mode, m))
		if stopped != nil {
			run.MemoryStop = cmp.Or(run.MemoryStop, stopped)
			b.tr.Logf("%s: %s during %s; its process group was killed, on to the next mode", run.Mode, stopped, l)
			return nil
		}
		if srv.exited() {
			return nil
		}
	}
	return nil
}

// keepAliveLine is the one-line account of a keep-alive run in the bench log.
func keepAliveLine(mode string, m loadtest.KeepAliveMetrics) string {
	return fmt.Sprintf("%s clients=%d: %d answers in %s, %.2f answers/s, p50 %s, p99 %s, answers per client %s, fairness %.2f, %d starved",
		mode, m.Clients, m.Answers, m.Elapsed, m.Throughput, m.Latency.Median, m.Latency.P99, m.AnswerRange(), m.Fairness, m.Starved)
}

// memInterval is how often the memory guard samples a server's RSS: a Node
// job grows by about 1 GB in seconds, so 100 ms overshoots the budget by
// little.
const memInterval = 100 * time.Millisecond

// AutoTimeout is a client timeout for a burst of n: three times the ideal
// makespan plus a minute, so even the last request of a slow queue is
// measured rather than cut off.
func AutoTimeout(n, capacity int, s time.Duration) time.Duration {
	return 3*loadtest.IdealMakespan(n, capacity, s) + time.Minute
}

// warmUp sends n sequential POSTs to url and returns their latencies and
// the server's job times (the job-time header, when present); any answer but 200 is an
// error.
func warmUp(ctx context.Context, url string, n int, timeout time.Duration, onAnswer func()) (lat, jobs []time.Duration, err error) {
	if timeout == 0 {
		timeout = 5 * time.Minute
	}
	client := loadtest.NewClient(ctx, timeout)
	for i := range n {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, nil)
		if err != nil {
			return lat, jobs, err
		}
		start := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			return lat, jobs, fmt.Errorf("request %d: %w", i+1, err)
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, 4096))
		resp.Body.Close()
		d := time.Since(start)
		if err != nil {
			return lat, jobs, fmt.Errorf("request %d: %w", i+1, err)
		}
		if resp.StatusCode != http.StatusOK {
			return lat, jobs, fmt.Errorf("request %d: %s: %s", i+1, resp.Status, strings.TrimSpace(string(body)))
		}
		lat = append(lat, d)
		if j, ok := loadtest.HeaderDuration(resp.Header, contract.HeaderJobTime); ok {
			jobs = append(jobs, j)
		}
		onAnswer()
	}
	return lat, jobs, nil
}

// CalibrationBurst is how many requests the calibration burst sends at once.
const CalibrationBurst = 10

// calibrationBurst fires CalibrationBurst requests at once at the
// calibration server (one job slot) and returns S as the mean time between
// consecutive answers: one job's time at steady state, which is what an ideal
// makespan counts. The sequential warm-up overstates it, by the per-request
// work a burst overlaps with the job before and by a few percent more (on the
// 1 MP photo its jobs ran 70-80 ms where the same server's burst jobs ran
// 60-65 ms, which put standard's own efficiency at 113-117 %).
func calibrationBurst(ctx context.Context, url string, own time.Duration) (*runfolder.RunS, error) {
	timeout := AutoTimeout(CalibrationBurst, 1, own)
	rs, err := loadtest.Burst(ctx, vegeta.Target{Method: http.MethodPost, URL: url}, CalibrationBurst,
		loadtest.WithTimeout(timeout), loadtest.WithName("calibration"))
	if err != nil {
		return nil, err
	}
	var start time.Time
	var ends []time.Duration
	for _, r := range rs {
		if r.Code != http.StatusOK || r.Error != "" {
			return nil, fmt.Errorf("an answer was %d %s", r.Code, r.Error)
		}
		if start.IsZero() || r.Timestamp.Before(start) {
			start = r.Timestamp
		}
	}
	for _, r := range rs {
		ends = append(ends, r.End().Sub(start))
	}
	slices.Sort(ends)
	if len(ends) < 2 {
		return nil, fmt.Errorf("%d answers, want %d", len(ends), CalibrationBurst)
	}
	c := &runfolder.RunS{S: loadtest.Duration((ends[len(ends)-1] - ends[0]) / time.Duration(len(ends)-1))}
	for _, e := range ends {
		c.Answers = append(c.Answers, loadtest.Duration(e))
	}
	return c, nil
}

// Calibrate returns S, the time of one job here and now, from the sequential
// warm-up latencies: their median, leaving out the first when there are three
// or more, because a fresh process's first job is slower (its heap grows, its
// pages fault in).
func Calibrate(warm []time.Duration) time.Duration {
	if len(warm) > 2 {
		warm = warm[1:]
	}
	return loadtest.Median(warm)
}

func firstN(s []string, n int) []string {
	if len(s) <= n {
		return s
	}
	return append(slices.Clone(s[:n]), fmt.Sprintf("… %d more", len(s)-n))
}

// levelLine is the one-line account of a level in the bench log.
func levelLine(mode string, m loadtest.Metrics) string {
	line := fmt.Sprintf("%s n=%d: %d/%d ok, sent within %s, first %s, median %s, last %s, %.2f req/s",
		mode, m.Level, m.Successes, m.Requests, m.SendSpread, m.FirstAnswer, m.Latency.Median, m.Makespan, m.Throughput)
	if m.Efficiency > 0 {
		line += fmt.Sprintf(", efficiency %.0f%%", 100*m.Efficiency)
	}
	if len(m.Workers) > 1 {
		line += ", workers " + m.WorkerSplit()
	}
	return line
}
