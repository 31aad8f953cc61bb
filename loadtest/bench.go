package loadtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Bench defaults.
const (
	DefaultBinDir       = "bin"
	DefaultImage        = "testdata/photo-6.7mb.jpg"
	QuickImage          = "testdata/photo-1mp.jpg"
	DefaultOutDir       = "results/latest"
	DefaultWarmups      = 5
	DefaultStartTimeout = 60 * time.Second
	DefaultStopTimeout  = 60 * time.Second
)

// DefaultLevels returns the burst sizes of a full bench.
func DefaultLevels() []int { return []int{10, 100, 1000} }

// QuickLevels returns the burst sizes of the quick preset.
func QuickLevels() []int { return []int{10, 100} }

// ErrProblems is wrapped by the error Bench returns when every mode ran but
// some did not behave (a bad exit code, files left behind, failed warm-up).
var ErrProblems = errors.New("bench found problems")

// BenchOption configures Bench.
type BenchOption func(*benchConfig)

type benchConfig struct {
	binDir       string
	modes        []string
	levels       []int
	image        string
	out          string
	timeout      time.Duration
	warmups      int
	cpus         int
	startTimeout time.Duration
	stopTimeout  time.Duration
	bar          io.Writer
	log          io.Writer
	env          []string
	modeArgs     map[string][]string
	flags        map[string]string
	args         []string
}

// WithBinDir sets the folder holding the server binaries (standard, clustered).
func WithBinDir(dir string) BenchOption { return func(c *benchConfig) { c.binDir = dir } }

// WithModes sets the modes to run, in order (see ModeNames).
func WithModes(modes ...string) BenchOption { return func(c *benchConfig) { c.modes = modes } }

// WithLevels sets the burst sizes.
func WithLevels(levels ...int) BenchOption { return func(c *benchConfig) { c.levels = levels } }

// WithImage sets the photo the servers flip.
func WithImage(path string) BenchOption { return func(c *benchConfig) { c.image = path } }

// WithOutDir sets the run folder.
func WithOutDir(dir string) BenchOption { return func(c *benchConfig) { c.out = dir } }

// WithRequestTimeout sets the client timeout of every burst request. Zero (the
// default) picks one per level: 3 × the ideal makespan + 1 minute, enough for
// the last request of the queue.
func WithRequestTimeout(d time.Duration) BenchOption {
	return func(c *benchConfig) { c.timeout = d }
}

// WithWarmups sets how many sequential requests warm each server up; their
// median latency is the calibration S.
func WithWarmups(n int) BenchOption { return func(c *benchConfig) { c.warmups = n } }

// WithCPUs sets the core count used for -procs and -workers (default
// runtime.NumCPU()).
func WithCPUs(n int) BenchOption { return func(c *benchConfig) { c.cpus = n } }

// WithStartTimeout bounds the wait for a server's /healthz.
func WithStartTimeout(d time.Duration) BenchOption {
	return func(c *benchConfig) { c.startTimeout = d }
}

// WithStopTimeout bounds the wait for a server to exit after SIGTERM, before
// its process group is killed.
func WithStopTimeout(d time.Duration) BenchOption {
	return func(c *benchConfig) { c.stopTimeout = d }
}

// WithProgress draws a progress bar with an ETA on w.
func WithProgress(w io.Writer) BenchOption { return func(c *benchConfig) { c.bar = w } }

// WithLog writes one line per step (server started, calibration, level done) to w.
func WithLog(w io.Writer) BenchOption { return func(c *benchConfig) { c.log = w } }

// WithServerEnv adds KEY=VALUE pairs to the servers' environment.
func WithServerEnv(kv ...string) BenchOption {
	return func(c *benchConfig) { c.env = append(c.env, kv...) }
}

// WithModeArgs appends flags to the named mode's server command line; a flag
// given twice takes its last value, so this overrides the mode's own (the
// regression gate injects a one-worker cluster this way).
func WithModeArgs(mode string, args ...string) BenchOption {
	return func(c *benchConfig) {
		if c.modeArgs == nil {
			c.modeArgs = map[string][]string{}
		}
		c.modeArgs[mode] = append(c.modeArgs[mode], args...)
	}
}

// WithFlags records the command line (flag values and arguments) in env.json.
func WithFlags(flags map[string]string, args []string) BenchOption {
	return func(c *benchConfig) { c.flags, c.args = flags, args }
}

// ModeRun is what bench did with one mode.
type ModeRun struct {
	Mode string   `json:"mode"`
	Spec ModeSpec `json:"spec"`
	// Skipped says why the mode did not run (its binary is missing).
	Skipped string `json:"skipped,omitempty"`
	PID     int    `json:"pid,omitempty"`
	Addr    string `json:"addr,omitempty"`
	// Health is the server's first /healthz answer.
	Health json.RawMessage `json:"healthz,omitempty"`
	// Capacity is the number of jobs the server runs at once.
	Capacity int `json:"capacity"`
	// Warmup are the latencies of the sequential warm-up requests;
	// Calibration (S) is their median.
	Warmup      []Duration `json:"warmup"`
	Calibration Duration   `json:"calibration"`
	// ServerJob is the median X-Job-Time of the warm-up answers: the job
	// alone, as the server timed it. Calibration / ServerJob is the HTTP
	// overhead.
	ServerJob Duration `json:"server_job"`
	// IdleRSS is the server's resident memory (all its processes) after
	// the warm-up.
	IdleRSS uint64 `json:"idle_rss_bytes,omitempty"`
	// WarmupHWM is the summed VmHWM of the server's processes after the
	// sequential warm-up: the peak memory of one job at a time.
	WarmupHWM uint64    `json:"warmup_hwm_bytes,omitempty"`
	Levels    []Metrics `json:"levels"`
	// How the server stopped.
	ExitCode  int      `json:"exit_code"`
	Killed    bool     `json:"killed,omitempty"`
	Survivors []int    `json:"survivors,omitempty"`
	Leftovers []string `json:"leftovers,omitempty"`
	// Problems lists everything that went wrong.
	Problems []string `json:"problems,omitempty"`
}

// Level returns the metrics of the burst of n, if it ran.
func (m ModeRun) Level(n int) (Metrics, bool) {
	for _, l := range m.Levels {
		if l.Level == n {
			return l, true
		}
	}
	return Metrics{}, false
}

// Summary is a whole run: what summary.json holds.
type Summary struct {
	Run    string    `json:"run"`
	Env    Env       `json:"env"`
	Levels []int     `json:"levels"`
	Modes  []ModeRun `json:"modes"`
}

// Mode returns the run of the named mode, if any.
func (s *Summary) Mode(name string) (ModeRun, bool) {
	for _, m := range s.Modes {
		if m.Mode == name {
			return m, true
		}
	}
	return ModeRun{}, false
}

// Bench runs every mode's server, fires each burst at it and writes the run
// folder. It returns the summary and an error that wraps ErrProblems when a
// server misbehaved, or ctx's error when it was cancelled (the server of the
// moment is stopped first, and the files written so far are kept).
func Bench(ctx context.Context, opts ...BenchOption) (*Summary, error) {
	c := benchConfig{
		binDir:       DefaultBinDir,
		modes:        DefaultModes(),
		levels:       DefaultLevels(),
		image:        DefaultImage,
		out:          DefaultOutDir,
		warmups:      DefaultWarmups,
		cpus:         runtime.NumCPU(),
		startTimeout: DefaultStartTimeout,
		stopTimeout:  DefaultStopTimeout,
	}
	for _, o := range opts {
		o(&c)
	}
	if err := c.validate(); err != nil {
		return nil, err
	}
	if c.log == nil {
		c.log = io.Discard
	}

	// Resolve the modes; a missing binary skips its mode.
	var specs []ModeSpec
	var runs []ModeRun
	bins := map[string]string{}
	for _, name := range c.modes {
		spec, err := Spec(name, c.binDir, c.cpus)
		if err != nil {
			return nil, err
		}
		spec.Args = append(spec.Args, c.modeArgs[name]...)
		if w, ok := lastIntFlag(spec.Args, "workers"); ok && w > 0 {
			spec.Workers = w
		}
		if fi, err := os.Stat(spec.Binary); err != nil || fi.IsDir() {
			msg := fmt.Sprintf("%s not found (build it with make build)", spec.Binary)
			fmt.Fprintf(c.log, "skip %s: %s\n", name, msg)
			runs = append(runs, ModeRun{Mode: name, Spec: spec, Skipped: msg})
			continue
		}
		specs = append(specs, spec)
		bins[spec.Binary] = spec.Binary
	}
	if len(specs) == 0 {
		return nil, fmt.Errorf("no mode to run: no server binary in %s (build them with make build)", c.binDir)
	}

	image, err := filepath.Abs(c.image)
	if err != nil {
		return nil, fmt.Errorf("image: %w", err)
	}
	env, err := CollectEnv(ctx, c.image)
	if err != nil {
		return nil, err
	}
	env.Binaries = binarySums(bins)
	env.Flags, env.Args = c.flags, c.args
	if err := prepareOut(c.out, c.modes); err != nil {
		return nil, err
	}
	if err := WriteJSON(filepath.Join(c.out, "env.json"), env); err != nil {
		return nil, err
	}

	sum := &Summary{Run: filepath.Base(filepath.Clean(c.out)), Env: env, Levels: c.levels, Modes: runs}
	tr := newTracker(c.bar, c.log, specs, c.levels, c.warmups)
	var problems []string
	for i, spec := range specs {
		run, err := benchMode(ctx, c, spec, image, i, tr)
		sum.Modes = append(sum.Modes, run)
		for _, p := range run.Problems {
			problems = append(problems, spec.Name+": "+p)
		}
		if werr := WriteJSON(filepath.Join(c.out, spec.Name, "mode.json"), run); werr != nil {
			err = errors.Join(err, werr)
		}
		if err != nil {
			tr.finish(false)
			_ = WriteSummary(c.out, sum)
			return sum, err
		}
	}
	tr.finish(true)
	if err := WriteSummary(c.out, sum); err != nil {
		return sum, err
	}
	if len(problems) > 0 {
		return sum, fmt.Errorf("%w:\n  %s", ErrProblems, strings.Join(problems, "\n  "))
	}
	return sum, nil
}

func (c *benchConfig) validate() error {
	if len(c.modes) == 0 {
		return errors.New("no modes to run")
	}
	for _, m := range c.modes {
		if !slices.Contains(ModeNames(), m) {
			return fmt.Errorf("unknown mode %q (known: %s)", m, strings.Join(ModeNames(), ", "))
		}
	}
	if len(c.levels) == 0 {
		return errors.New("no levels to run")
	}
	for _, n := range c.levels {
		if n < 1 || n > MaxLevel {
			return fmt.Errorf("level %d out of range (1 to %d)", n, MaxLevel)
		}
	}
	switch {
	case c.warmups < 1:
		return fmt.Errorf("warm-ups: need at least 1 to calibrate, got %d", c.warmups)
	case c.cpus < 1:
		return fmt.Errorf("cpus: need at least 1, got %d", c.cpus)
	case c.timeout < 0:
		return fmt.Errorf("timeout %s is negative", c.timeout)
	case c.out == "":
		return errors.New("no output folder")
	case c.startTimeout <= 0 || c.stopTimeout <= 0:
		return errors.New("start and stop timeouts must be positive")
	}
	if fi, err := os.Stat(c.image); err != nil {
		return fmt.Errorf("image: %w", err)
	} else if fi.IsDir() {
		return fmt.Errorf("image %s is a folder", c.image)
	}
	return nil
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
	old, _ := filepath.Glob(filepath.Join(out, "latency-*.svg"))
	old = append(old, filepath.Join(out, "throughput.svg"), filepath.Join(out, "speedup.svg"),
		filepath.Join(out, FileSummaryMD), filepath.Join(out, FileSummaryJSON))
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
	for _, f := range []string{FileMode, FileServerLog} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			return true
		}
	}
	return false
}

// benchMode runs one mode from start to stop. Problems with the server go to
// run.Problems; the error is for cancellation and for failing to write files.
func benchMode(ctx context.Context, c benchConfig, spec ModeSpec, image string, idx int, tr *tracker) (run ModeRun, err error) {
	run = ModeRun{Mode: spec.Name, Spec: spec, ExitCode: -1}
	dir := filepath.Join(c.out, spec.Name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return run, fmt.Errorf("%s: %w", spec.Name, err)
	}
	answered := 0
	count := func() {
		if ctx.Err() != nil {
			tr.halt()
			return
		}
		answered++
		tr.add()
	}
	problem := func(format string, args ...any) {
		msg := fmt.Sprintf(format, args...)
		run.Problems = append(run.Problems, msg)
		tr.logf("%s: problem: %s", spec.Name, msg)
	}

	srv, err := startServer(spec, image, filepath.Join(dir, "server.log"), c.env)
	if err != nil {
		problem("%v", err)
		tr.skip(0)
		return run, nil
	}
	run.PID, run.Addr = srv.pid, srv.addr
	tr.logf("%s: started %s %s (pid %d)", spec.Name, spec.Binary, strings.Join(spec.Args, " "), srv.pid)
	defer func() {
		res := srv.stop(c.stopTimeout)
		run.ExitCode, run.Killed, run.Survivors, run.Leftovers = res.ExitCode, res.Killed, res.Survivors, res.Leftovers
		if ctx.Err() != nil {
			tr.logf("%s: stopped (exit code %d)", spec.Name, res.ExitCode)
			return
		}
		switch {
		case res.Early:
			problem("exited on its own (exit code %d) before bench stopped it; see %s", res.ExitCode, filepath.Join(dir, FileServerLog))
		case res.Killed:
			problem("did not exit within %s of SIGTERM; its process group was killed", c.stopTimeout)
		case res.ExitCode != 0:
			problem("exit code %d after SIGTERM (want 0); see %s", res.ExitCode, filepath.Join(dir, FileServerLog))
		}
		if len(res.Survivors) > 0 {
			problem("processes %v of its group outlived it (killed)", res.Survivors)
		}
		if len(res.Leftovers) > 0 {
			problem("left %d entries in its tmpdir: %s", len(res.Leftovers), strings.Join(firstN(res.Leftovers, 5), ", "))
		}
		if len(run.Problems) == 0 {
			tr.logf("%s: stopped cleanly (exit code 0, no temp files left)", spec.Name)
		}
	}()
	defer func() {
		if len(run.Levels) < len(c.levels) {
			tr.skip(answered)
		}
	}()

	h, raw, err := srv.waitHealthy(ctx, c.startTimeout)
	if err != nil {
		if ctx.Err() != nil {
			return run, ctx.Err()
		}
		problem("%v", err)
		return run, nil
	}
	run.Health = raw
	run.Capacity = capacityOf(spec, h)

	tr.begin(idx, -1)
	warm, jobs, err := warmUp(ctx, srv.url("/flip"), c.warmups, c.timeout, count)
	for _, d := range warm {
		run.Warmup = append(run.Warmup, Duration(d))
	}
	if len(jobs) > 0 {
		run.ServerJob = Duration(median(jobs))
	}
	if err != nil {
		if ctx.Err() != nil {
			return run, ctx.Err()
		}
		problem("warm-up: %v", err)
		return run, nil
	}
	s := calibrate(warm)
	run.Calibration = Duration(s)
	run.IdleRSS = groupRSS(srv.pid)
	run.WarmupHWM = groupHWM(srv.pid)
	tr.calibrated(idx, run.Capacity, s)
	tr.logf("%s: healthy, capacity %d, calibration S = %s (median of %d warm-up requests)", spec.Name, run.Capacity, Duration(s), len(warm))

	tgt := vegeta.Target{Method: http.MethodPost, URL: srv.url("/flip")}
	for j, n := range c.levels {
		timeout := c.timeout
		if timeout == 0 {
			timeout = autoTimeout(n, run.Capacity, s)
		}
		tr.begin(idx, j)
		name := BurstName(n)
		peakRSS := sampleRSS(srv.pid, 100*time.Millisecond)
		rs, aerr := Burst(ctx, tgt, n,
			WithTimeout(timeout),
			WithName(spec.Name+"/"+name),
			WithOnResult(func(*vegeta.Result) { count() }),
		)
		rss := peakRSS()
		if aerr != nil && ctx.Err() == nil {
			problem("burst of %d: %v", n, aerr)
			return run, nil
		}
		m := Compute(rs, Params{Capacity: run.Capacity, Calibration: s, Timeout: timeout})
		m.Level, m.ServerPeakRSS, m.ServerHWM = n, rss, groupHWM(srv.pid)
		if ctx.Err() != nil {
			// Keep what the interrupted burst gathered, under its own name.
			_ = WriteLevel(dir, name+"-interrupted", rs, m)
			return run, ctx.Err()
		}
		if err := WriteLevel(dir, name, rs, m); err != nil {
			return run, fmt.Errorf("%s: %w", spec.Name, err)
		}
		run.Levels = append(run.Levels, m)
		tr.logf("%s", levelLine(spec.Name, m))
		if srv.exited() {
			return run, nil // the stop reports it
		}
	}
	return run, nil
}

// capacityOf is how many jobs the server runs at once: /healthz's capacity
// (times the worker count when a cluster worker answered), else the spec's.
func capacityOf(spec ModeSpec, h Health) int {
	if h.Capacity <= 0 {
		return spec.Capacity
	}
	if h.Worker >= 0 && spec.Workers > 1 {
		return h.Capacity * spec.Workers
	}
	return h.Capacity
}

// lastIntFlag returns the value of the last -name N (or -name=N) in args: the
// one the flag package keeps.
func lastIntFlag(args []string, name string) (int, bool) {
	val, found := "", false
	for i, a := range args {
		a = strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-")
		if v, ok := strings.CutPrefix(a, name+"="); ok {
			val, found = v, true
		} else if a == name && i+1 < len(args) {
			val, found = args[i+1], true
		}
	}
	if !found {
		return 0, false
	}
	n, err := strconv.Atoi(val)
	return n, err == nil
}

// autoTimeout is a client timeout for a burst of n: three times the ideal
// makespan plus a minute, so even the last request of a slow queue is
// measured rather than cut off.
func autoTimeout(n, capacity int, s time.Duration) time.Duration {
	capacity = max(capacity, 1)
	rounds := time.Duration((n + capacity - 1) / capacity)
	return 3*rounds*s + time.Minute
}

// warmUp sends n sequential POSTs to url and returns their latencies and
// the server's job times (X-Job-Time, when present); any answer but 200 is an
// error.
func warmUp(ctx context.Context, url string, n int, timeout time.Duration, onAnswer func()) (lat, jobs []time.Duration, err error) {
	if timeout == 0 {
		timeout = 5 * time.Minute
	}
	client := newClient(ctx, timeout)
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
		if j, ok := headerDuration(resp.Header, HeaderJobTime); ok {
			jobs = append(jobs, j)
		}
		onAnswer()
	}
	return lat, jobs, nil
}

// calibrate returns S, the time of one job here and now, from the sequential
// warm-up latencies: their median, leaving out the first when there are three
// or more, because a fresh process's first job is slower (its heap grows, its
// pages fault in).
func calibrate(warm []time.Duration) time.Duration {
	if len(warm) > 2 {
		warm = warm[1:]
	}
	return median(warm)
}

// median returns the median of ds (the lower middle for an even count).
func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return Percentile(s, 0.5)
}

func firstN(s []string, n int) []string {
	if len(s) <= n {
		return s
	}
	return append(slices.Clone(s[:n]), fmt.Sprintf("… %d more", len(s)-n))
}

// levelLine is the one-line account of a level in the bench log.
func levelLine(mode string, m Metrics) string {
	line := fmt.Sprintf("%s n=%d: %d/%d ok, sent within %s, first %s, median %s, last %s, %.2f req/s",
		mode, m.Level, m.Successes, m.Requests, m.SendSpread, m.FirstAnswer, m.Latency.Median, m.Makespan, m.Throughput)
	if m.Efficiency > 0 {
		line += fmt.Sprintf(", efficiency %.0f%%", 100*m.Efficiency)
	}
	if len(m.Workers) > 1 {
		line += ", workers " + workerSplit(m)
	}
	return line
}

// workerSplit renders per-worker counts as "6/4".
func workerSplit(m Metrics) string {
	cs := m.WorkerCounts()
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = fmt.Sprint(c)
	}
	return strings.Join(parts, "/")
}
