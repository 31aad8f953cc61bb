// Package hello is the dispatch-cost experiment: GET / (a hello world that
// answers the pid) at a sustained rate, stepped up per mode until p99
// passes a bound or requests fail; each mode's highest sustained rate and
// p50/p99 at every step, in summary.md and a plot.
//
// A run folder keeps bench's shape:
//
//	env.json, hello.json, summary.md, hello-p99.svg
//	<mode>/server.log, <mode>/rate-<R>.*  one step's level files
package hello

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"runtime"
	"slices"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/flipbench/flipbench/bench"
	"github.com/flipbench/flipbench/contract"
	"github.com/flipbench/flipbench/experiment"
	"github.com/flipbench/flipbench/loadtest"
	"github.com/flipbench/flipbench/runfolder"
)

// Defaults of a Config.
const (
	DefaultStartRate = 500
	DefaultFactor    = 2.0
	DefaultStep      = 3 * time.Second
	DefaultMaxRate   = 32000
	DefaultBound     = 50 * time.Millisecond
	DefaultTries     = 2
	// DefaultOut is the run folder of a hello run.
	DefaultOut = "results/hello"
	// FileJSON is the hello run's data.
	FileJSON = "hello.json"
	// minSentShare is the share of a step's rate the driver must have sent
	// for the step to count: below it, the load generator (on the same
	// cores) is what gave out, not the server.
	minSentShare = 0.9
)

// DefaultModes returns the modes the hello workload runs when none are named:
// every Go mode bench knows, so a cluster policy joins as soon as bench has
// its mode.
func DefaultModes() []string {
	var names []string
	for _, m := range bench.Modes() {
		if m.Family == bench.FamilyGo {
			names = append(names, m.Name)
		}
	}
	return names
}

// Config is what Hello does; zero values take the defaults noted.
type Config struct {
	// Servers: its Image is only checked by the servers at start (GET /
	// never reads it); Out is DefaultOut.
	experiment.Servers
	Modes     []string      // DefaultModes()
	StartRate int           // requests per second of the first step; DefaultStartRate
	Factor    float64       // each step's rate over the last's; DefaultFactor
	Step      time.Duration // how long each rate is held; DefaultStep
	MaxRate   int           // no step goes past this rate; DefaultMaxRate
	Bound     time.Duration // the p99 a step may not pass; DefaultBound
	// Tries is how often a rate is held before its failure counts; on a
	// shared machine one hiccup of another process can push a short step's
	// p99 past the bound. DefaultTries.
	Tries int
	// Timeout is the client timeout of each request; 0 is 20 × Bound, at
	// least a second: an answer that late has failed the step anyway.
	Timeout time.Duration
	// ModeArgs appends flags to a mode's command line, as bench.Config's.
	ModeArgs map[string][]string
}

func (c *Config) fill() {
	c.Fill(DefaultOut)
	c.StartRate = cmp.Or(c.StartRate, DefaultStartRate)
	c.Factor = cmp.Or(c.Factor, DefaultFactor)
	c.Step = cmp.Or(c.Step, DefaultStep)
	c.MaxRate = cmp.Or(c.MaxRate, DefaultMaxRate)
	c.Bound = cmp.Or(c.Bound, DefaultBound)
	c.Tries = cmp.Or(c.Tries, DefaultTries)
	c.Timeout = cmp.Or(c.Timeout, max(20*c.Bound, time.Second))
	if c.Modes == nil {
		c.Modes = DefaultModes()
	}
}

func (c *Config) validate() error {
	if len(c.Modes) == 0 {
		return errors.New("no modes to run")
	}
	for _, m := range c.Modes {
		if _, err := bench.LookupMode(m); err != nil {
			return err
		}
	}
	switch {
	case c.StartRate < 1:
		return fmt.Errorf("start rate %d: must be positive", c.StartRate)
	case c.Factor <= 1:
		return fmt.Errorf("rate factor %g: must be above 1", c.Factor)
	case c.Step <= 0 || c.Bound <= 0 || c.Timeout <= 0:
		return errors.New("step, bound and timeout must be positive")
	case c.Tries < 1:
		return fmt.Errorf("tries %d: need at least 1", c.Tries)
	case c.MaxRate < c.StartRate:
		return fmt.Errorf("max rate %d is below the start rate %d", c.MaxRate, c.StartRate)
	}
	return c.Servers.Validate()
}

// Result is a whole hello run: what hello.json holds.
type Result struct {
	Run       string            `json:"run"`
	StartRate int               `json:"start_rate"`
	Factor    float64           `json:"factor"`
	Step      loadtest.Duration `json:"step"`
	MaxRate   int               `json:"max_rate"`
	Bound     loadtest.Duration `json:"p99_bound"`
	Tries     int               `json:"tries"`
	Modes     []ModeRun         `json:"modes"`
	// Cores, LoadBefore and LoadAfter say how busy the machine was.
	Cores      int    `json:"cores"`
	LoadBefore string `json:"load_before,omitempty"`
	LoadAfter  string `json:"load_after,omitempty"`
}

// ModeRun is what one mode did: its steps and its highest sustained rate.
type ModeRun struct {
	Mode    string     `json:"mode"`
	Skipped string     `json:"skipped,omitempty"`
	Spec    bench.Spec `json:"spec"`
	PID     int        `json:"pid,omitempty"`
	Steps   []Step     `json:"steps"`
	// Highest is the rate of the last step within the bound without errors
	// (0: none was).
	Highest int `json:"highest_rate"`
	// Stop says why the steps ended.
	Stop string `json:"stop"`
	// Noise is what else the machine did while the steps ran; nil when
	// /proc could not tell.
	Noise    *runfolder.Noise `json:"noise,omitempty"`
	Problems []string         `json:"problems,omitempty"`
}

// Step is one hold of a rate for the step's duration.
type Step struct {
	Rate int `json:"rate"`
	// Try counts the holds of this rate (a failed hold is tried again, up to
	// Tries); Name is the base name of its level files.
	Try  int    `json:"try"`
	Name string `json:"name"`
	// Sent is the rate the driver achieved (vegeta's), requests per second.
	Sent      float64           `json:"sent_rate"`
	Requests  int               `json:"requests"`
	Successes int               `json:"successes"`
	P50       loadtest.Duration `json:"p50"`
	P99       loadtest.Duration `json:"p99"`
	Max       loadtest.Duration `json:"max"`
	Workers   map[string]int    `json:"workers,omitempty"`
	// Fail says why the step is not sustained; empty when it is.
	Fail string `json:"fail,omitempty"`
}

// judge says why a step is not sustained at bound: errors, p99 over the
// bound, or a driver that could not send the rate.
func judge(s Step, bound time.Duration) string {
	switch {
	case s.Successes < s.Requests:
		return fmt.Sprintf("%d of %d requests failed", s.Requests-s.Successes, s.Requests)
	case s.P99.D() > bound:
		return fmt.Sprintf("p99 %s over the %s bound", s.P99, loadtest.Duration(bound))
	case s.Sent < minSentShare*float64(s.Rate):
		return fmt.Sprintf("the driver sent only %.0f of %d requests/s", s.Sent, s.Rate)
	}
	return ""
}

// RateName is the base name of the files of a step at rate requests/s.
func RateName(rate int) string { return fmt.Sprintf("rate-%d", rate) }

// Run runs the dispatch-cost experiment into c.Out and returns what it
// measured, also written as hello.json (Write renders summary.md and
// the plot). For each mode it starts the server, then holds GET / at
// StartRate, StartRate × Factor, ... requests per second (the engine's
// Sustain: an open model) until a step's p99 passes Bound, a request
// fails, or the next rate would pass MaxRate.
func Run(ctx context.Context, c Config) (*Result, error) {
	c.fill()
	if err := c.validate(); err != nil {
		return nil, err
	}
	place := c.Place()
	run := &Result{Run: filepath.Base(filepath.Clean(c.Out)), StartRate: c.StartRate, Factor: c.Factor,
		Step: loadtest.Duration(c.Step), MaxRate: c.MaxRate, Bound: loadtest.Duration(c.Bound), Tries: c.Tries,
		Cores: runtime.NumCPU(), LoadBefore: experiment.LoadAvg()}
	all, specs, err := bench.ResolveAll(c.Modes, place, c.ModeArgs, "mode", c.Log)
	if err != nil {
		return nil, err
	}
	for i, r := range all {
		run.Modes = append(run.Modes, ModeRun{Mode: c.Modes[i], Spec: r.Spec, Skipped: r.Skipped})
	}
	h := c.Harness()
	if _, err := h.Open(ctx, c.Modes, []string{FileJSON, runfolder.FileSummaryMD, "hello-*.svg", runfolder.FileSummaryJSON}, specs, c.Flags, c.Args); err != nil {
		return nil, err
	}
	defer h.Close() // after every server has been stopped
	var problems []string
	for i := range run.Modes {
		err = nil
		hm := &run.Modes[i]
		if hm.Skipped != "" {
			continue
		}
		var rec runfolder.Trial
		var spec bench.Spec
		rec, spec, err = h.Run(ctx, hm.Spec, 1, filepath.Join(c.Out, hm.Mode), func(ctx context.Context, t *bench.Trial) error {
			return stepUp(ctx, c, t, hm)
		})
		hm.Spec, hm.PID, hm.Problems, hm.Noise = spec, rec.PID, rec.Problems, rec.Noise
		if hm.Stop == "" && len(rec.Problems) > 0 {
			hm.Stop = "did not start"
		}
		for _, p := range hm.Problems {
			problems = append(problems, hm.Mode+": "+p)
		}
		if err != nil {
			break
		}
	}
	return run, experiment.Finish(err, problems, func() error { return writeResult(c.Out, run) })
}

// stepUp steps the rate at t's server up until a step fails. Problems
// with the server go to t; the error is for cancellation and for failing
// to write files.
func stepUp(ctx context.Context, c Config, t *bench.Trial, hm *ModeRun) error {
	srv, dir := t.Server, t.Dir
	tgt := vegeta.Target{Method: http.MethodGet, URL: srv.URL(contract.PathPID)}
	for rate, try := c.StartRate, 1; ; {
		name := RateName(rate)
		if try > 1 {
			name += fmt.Sprintf("-try-%d", try)
		}
		rs, aerr := loadtest.Sustain(ctx, tgt, rate, c.Step, loadtest.WithTimeout(c.Timeout), loadtest.WithName(hm.Mode+"/"+name))
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if aerr != nil {
			t.Problem("%d requests/s: %v", rate, aerr)
			hm.Stop = "the attack failed"
			return nil
		}
		m := loadtest.Compute(rs, loadtest.Params{Timeout: c.Timeout})
		if err := loadtest.WriteLevel(dir, name, rs, m); err != nil {
			return fmt.Errorf("%s: %w", hm.Mode, err)
		}
		st := Step{Rate: rate, Try: try, Name: name, Sent: loadtest.VegetaMetrics(rs).Rate, Requests: m.Requests, Successes: m.Successes,
			P50: m.Latency.Median, P99: m.Latency.P99, Max: m.Latency.Max, Workers: m.Workers}
		st.Fail = judge(st, c.Bound)
		hm.Steps = append(hm.Steps, st)
		t.Logf("%s %d req/s (try %d): sent %.0f/s, %d/%d ok, p50 %s, p99 %s%s", hm.Mode, rate, try, st.Sent, st.Successes, st.Requests, st.P50, st.P99, failText(st.Fail))
		if srv.Exited() {
			hm.Stop = "the server exited"
			return nil // the stop reports it
		}
		if st.Fail != "" {
			if try < c.Tries {
				try++
				continue
			}
			hm.Stop = fmt.Sprintf("at %d requests/s: %s", rate, st.Fail)
			return nil
		}
		hm.Highest = rate
		next := max(int(float64(rate)*c.Factor), rate+1)
		if next > c.MaxRate {
			hm.Stop = fmt.Sprintf("the next step, %d requests/s, is past the -rate-max %d", next, c.MaxRate)
			return nil
		}
		rate, try = next, 1
	}
}

func failText(fail string) string {
	if fail == "" {
		return ""
	}
	return ": " + fail
}

func writeResult(out string, run *Result) error {
	run.LoadAfter = experiment.LoadAvg()
	slices.SortStableFunc(run.Modes, func(a, b ModeRun) int { return bench.ModeOrder(a.Mode, b.Mode) })
	return loadtest.WriteJSON(filepath.Join(out, FileJSON), run)
}

// Load reads a hello run folder's hello.json.
func Load(dir string) (*Result, error) {
	var run Result
	if err := experiment.ReadResult(dir, FileJSON, "hello", &run); err != nil {
		return nil, err
	}
	return &run, nil
}
