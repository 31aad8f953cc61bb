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
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"time"

	"github.com/flipbench/flipbench/experiment"
	"github.com/flipbench/flipbench/loadtest"
	"github.com/flipbench/flipbench/runfolder"
	"github.com/flipbench/flipbench/trial"
)

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
	// Machine says how busy the machine was.
	experiment.Machine
}

// ModeRun is what one mode did: its steps and its highest sustained rate.
type ModeRun struct {
	Mode    string     `json:"mode"`
	Skipped string     `json:"skipped,omitempty"`
	Spec    trial.Spec `json:"spec"`
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
		Machine: experiment.StartMachine()}
	all, specs, err := trial.ResolveAll(c.Modes, place, c.ModeArgs, "mode", c.Log)
	if err != nil {
		return nil, err
	}
	for i, r := range all {
		run.Modes = append(run.Modes, ModeRun{Mode: c.Modes[i], Spec: r.Spec, Skipped: r.Skipped})
	}
	h := c.Harness()
	h.Warmups = 0 // GET / needs no warm-up job
	if _, err := h.Open(ctx, c.Modes, []string{FileJSON, runfolder.FileSummaryMD, "hello-*.svg", runfolder.FileSummaryJSON}, specs); err != nil {
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
		var spec trial.Spec
		rec, spec, err = h.Run(ctx, hm.Spec, 1, filepath.Join(c.Out, hm.Mode), func(ctx context.Context, t *trial.Trial) error {
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
func stepUp(ctx context.Context, c Config, t *trial.Trial, hm *ModeRun) error {
	srv, dir := t.Server, t.Dir
	tgt := experiment.HelloTarget(srv)
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
	slices.SortStableFunc(run.Modes, func(a, b ModeRun) int { return trial.ModeOrder(a.Mode, b.Mode) })
	return experiment.WriteResult(out, FileJSON, &run.Machine, run)
}

// Load reads a hello run folder's hello.json.
func Load(dir string) (*Result, error) { return experiment.Load[Result](dir, FileJSON, "hello") }
