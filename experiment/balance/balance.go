// Package balance is the balance experiment: for each Balance policy
// (reuseport, shared, rr, none: the bench modes that serve them) and burst
// size, K bursts on fresh connections, one round each (a server start per
// policy and round, bench's trial harness); every run's
// per-worker split (answers per worker pid) and makespan over the ideal, and
// their distribution, in balance.md and two plots. With the hello target
// (GET /) it counts where connections go, to test Node's claim about
// SCHED_NONE.
//
// A run folder holds:
//
//	env.json                          machine, commit, image, flags
//	balance.json                      every run's split, ratio and machine noise (a Result)
//	balance.md, balance-*.svg         the summary and its plots
//	calibration/server.log            standard, whose S burst gives S
//	<policy>/server.log               the policy's server
//	<policy>/burst-<N>-run-<K>.*      one run's level files (package loadtest)
package balance

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/flipbench/flipbench/bench"
	"github.com/flipbench/flipbench/contract"
	"github.com/flipbench/flipbench/experiment"
	"github.com/flipbench/flipbench/loadtest"
	"github.com/flipbench/flipbench/runfolder"
	"github.com/flipbench/flipbench/trial"
)

// Policy is a Balance, how connections reach a cluster's workers (prefork's
// word, the value of cmd/clustered's -balance), and the bench mode that
// serves it.
type Policy struct {
	Balance string `json:"balance"`
	Mode    string `json:"mode"`
}

// Policies returns every policy the balance experiment knows, in report
// order. It is data: a policy whose bench mode does not exist on this build
// is skipped with a one-line reason, so rr and none join by name once bench
// has their modes.
func Policies() []Policy {
	return []Policy{
		{Balance: "reuseport", Mode: "clustered"},
		{Balance: "shared", Mode: "shared"},
		{Balance: "rr", Mode: "rr"},
		{Balance: "none", Mode: "none"},
	}
}

// PolicyNames returns the Balance of every policy, in report order.
func PolicyNames() []string {
	var names []string
	for _, p := range Policies() {
		names = append(names, p.Balance)
	}
	return names
}

// ParsePolicies reads a comma-separated list of Balance names, refusing
// unknown names, duplicates and an empty list.
func ParsePolicies(s string) ([]string, error) {
	var out []string
	for f := range strings.SplitSeq(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if !slices.Contains(PolicyNames(), f) {
			return nil, fmt.Errorf("unknown policy %q (known: %s)", f, strings.Join(PolicyNames(), ", "))
		}
		if slices.Contains(out, f) {
			return nil, fmt.Errorf("policy %q listed twice", f)
		}
		out = append(out, f)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no policies in %q (known: %s)", s, strings.Join(PolicyNames(), ", "))
	}
	return out, nil
}

// PolicyOf returns the Balance of the policy the bench mode serves.
func PolicyOf(mode string) (string, bool) {
	for _, p := range Policies() {
		if p.Mode == mode {
			return p.Balance, true
		}
	}
	return "", false
}

func lookupPolicy(balance string) Policy {
	for _, p := range Policies() {
		if p.Balance == balance {
			return p
		}
	}
	return Policy{Balance: balance}
}

// Result is a whole balance run: what balance.json holds.
type Result struct {
	Run    string `json:"run"`
	Target string `json:"target"`
	Sizes  []int  `json:"sizes"`
	Runs   int    `json:"runs"`
	// Workers is the worker count asked for (0: each mode's own).
	Workers int `json:"workers"`
	// S is the run's time of one job, from a burst on standard after its warm-up (flip only).
	S        loadtest.Duration `json:"s,omitempty"`
	Policies []PolicyRun       `json:"policies"`
	// Machine says how busy the machine was.
	experiment.Machine
}

// PolicyRun is what one policy did: one server start per run (round), every
// burst; PID is the first start's.
type PolicyRun struct {
	Policy
	// Skipped says why the policy did not run (its mode or binary is missing).
	Skipped string     `json:"skipped,omitempty"`
	Spec    trial.Spec `json:"spec"`
	PID     int        `json:"pid,omitempty"`
	Trials  []Trial    `json:"trials"`
	// Noise is what else the machine did in each run (a server start), for
	// the runs whose noise /proc could tell.
	Noise    []RunNoise `json:"noise,omitempty"`
	Problems []string   `json:"problems,omitempty"`
	out      bool       // it failed and fires no more bursts
}

// RunNoise is what else the machine did while run Run's bursts were fired.
type RunNoise struct {
	Run int `json:"run"`
	runfolder.Noise
}

// Trial is one burst: its per-worker split and its makespan over the ideal.
type Trial struct {
	Size int `json:"size"`
	Run  int `json:"run"` // 1 to Runs
	// Name is the base name of its level files in the policy's folder.
	Name      string `json:"name"`
	Successes int    `json:"successes"`
	// Workers counts answers by worker pid.
	Workers map[string]int `json:"workers"`
	// Split is the answers per worker, most first, with a 0 for every worker
	// of the cluster that answered none.
	Split    []int             `json:"split"`
	Makespan loadtest.Duration `json:"makespan"`
	Ideal    loadtest.Duration `json:"ideal,omitempty"`
	// Ratio is Makespan / Ideal (0 without an ideal).
	Ratio float64 `json:"ratio,omitempty"`
}

// TopShare returns the share of the trial's answers the k busiest workers
// gave.
func (t Trial) TopShare(k int) float64 {
	total, top := 0, 0
	for i, c := range t.Split {
		total += c
		if i < k {
			top += c
		}
	}
	if total == 0 {
		return 0
	}
	return float64(top) / float64(total)
}

// TrialName is the base name of the files of run k of a burst of n.
func TrialName(n, k int) string { return fmt.Sprintf("%s-run-%02d", loadtest.BurstName(n), k) }

// newTrial makes a trial of a burst's metrics on a cluster of workers,
// its ideal counted in the job time s.
func newTrial(n, k, workers int, m loadtest.Metrics, s time.Duration) Trial {
	t := Trial{
		Size: n, Run: k, Name: TrialName(n, k), Successes: m.Successes, Workers: m.Workers,
		Split: m.WorkerCounts(), Makespan: m.Makespan, Ideal: loadtest.Duration(m.IdealIn(s, 0).Makespan),
	}
	for len(t.Split) < workers {
		t.Split = append(t.Split, 0)
	}
	if t.Ideal > 0 {
		t.Ratio = float64(m.Makespan) / float64(t.Ideal)
	}
	return t
}

// Run runs the balance experiment into c.Out and returns what it
// measured, also written as balance.json (Write renders the summary and
// plots). Run k is a round: every policy's server starts, takes one burst
// of each size and stops, in an order that rotates from round to round.
// Every burst is on
// fresh connections (the engine's Burst opens one per request). The error
// wraps trial.ErrProblems when a server misbehaved, or is ctx's when
// cancelled (the servers are stopped, what was written is kept).
func Run(ctx context.Context, c Config) (*Result, error) {
	c.fill()
	if err := c.validate(); err != nil {
		return nil, err
	}
	place := c.Place()
	var extra []string
	if c.Workers > 0 {
		extra = []string{contract.Arg(contract.FlagWorkers, strconv.Itoa(c.Workers))}
	}
	extra = append(extra, c.Args...)
	run := &Result{Run: filepath.Base(filepath.Clean(c.Out)), Target: c.Target, Sizes: c.Sizes, Runs: c.Runs, Workers: c.Workers,
		Machine: experiment.StartMachine()}
	var modes []string
	args := map[string][]string{}
	for _, name := range c.Policies {
		mode := lookupPolicy(name).Mode
		modes, args[mode] = append(modes, mode), extra
	}
	all, specs, err := trial.ResolveAll(modes, place, args, "policy", c.Log)
	if err != nil {
		return nil, err
	}
	for i, r := range all {
		run.Policies = append(run.Policies, PolicyRun{Policy: lookupPolicy(c.Policies[i]), Spec: r.Spec, Skipped: r.Skipped})
	}
	h := c.Harness()
	if _, err := h.Open(ctx, append([]string{runfolder.DirS}, c.Policies...), []string{FileJSON, FileMD, "balance-*.svg"}, specs); err != nil {
		return nil, err
	}
	defer h.Close() // after every server has been stopped
	h.Warmups = 0   // GET / needs no warm-up job
	if c.Target == TargetFlip {
		h.Warmups, h.WarmTimeout = c.Warmups, c.Timeout
		s, rec, err := bench.RunS(ctx, h, 1, filepath.Join(c.Out, runfolder.DirS))
		if err == nil && s == nil {
			err = fmt.Errorf("measure S: %s", strings.Join(rec.Problems, "; "))
		}
		if err != nil {
			return run, errors.Join(err, writeResult(c.Out, run))
		}
		run.S = s.S
	}
	err = interleave(ctx, h, c, run)
	var problems []string
	for _, pr := range run.Policies {
		for _, p := range pr.Problems {
			problems = append(problems, pr.Balance+": "+p)
		}
	}
	return run, experiment.Finish(err, problems, func() error { return writeResult(c.Out, run) })
}

// interleave runs c.Runs rounds: in each, every policy's server starts,
// warms up (flip only), takes one burst of every size and stops, in an
// order that rotates from round to round, so a drift in the load of a
// shared machine falls on every policy alike rather than on whichever ran
// last. Problems with a server go to its policy; the error is for
// cancellation and for failing to write files.
func interleave(ctx context.Context, h *trial.Harness, c Config, run *Result) error {
	var live []*PolicyRun
	for i := range run.Policies {
		if run.Policies[i].Skipped == "" {
			live = append(live, &run.Policies[i])
		}
	}
	for k := 1; k <= c.Runs; k++ {
		for _, pr := range trial.Rotate(live, k) {
			if pr.out {
				continue
			}
			dir := filepath.Join(c.Out, pr.Balance)
			rec, spec, err := h.Run(ctx, pr.Spec, k, runfolder.TrialDir(c.Out, pr.Balance, k), func(ctx context.Context, t *trial.Trial) error {
				return fire(ctx, c, run.S.D(), t, pr, dir, k)
			})
			pr.Spec, pr.PID = spec, cmp.Or(pr.PID, rec.PID)
			if rec.Noise != nil {
				pr.Noise = append(pr.Noise, RunNoise{Run: k, Noise: *rec.Noise})
			}
			pr.Problems = append(pr.Problems, rec.Problems...)
			pr.out = len(rec.Problems) > 0
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// fire sends run k of every burst size to t's server and records them in
// pr, their files in dir.
func fire(ctx context.Context, c Config, s time.Duration, t *trial.Trial, pr *PolicyRun, dir string, k int) error {
	srv := t.Server
	tgt := experiment.HelloTarget(srv)
	if c.Target == TargetFlip {
		tgt = experiment.FlipTarget(srv)
	}
	for _, n := range c.Sizes {
		timeout := cmp.Or(c.Timeout, trial.AutoTimeout(n, srv.Spec.Capacity, max(s, time.Second)))
		name := TrialName(n, k)
		rs, aerr := loadtest.Burst(ctx, tgt, n, loadtest.WithTimeout(timeout), loadtest.WithName(pr.Balance+"/"+name))
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if aerr != nil {
			t.Problem("burst of %d, run %d: %v", n, k, aerr)
			return nil
		}
		m := loadtest.Compute(rs, loadtest.Params{Capacity: srv.Spec.Capacity, Timeout: timeout})
		m.Level = n
		if err := loadtest.WriteLevel(dir, name, rs, m); err != nil {
			return fmt.Errorf("%s: %w", pr.Balance, err)
		}
		tr := newTrial(n, k, srv.Spec.Workers, m, s)
		pr.Trials = append(pr.Trials, tr)
		t.Logf("%s", trialLine(pr.Balance, tr, n))
		if srv.Exited() {
			return nil // the stop reports it
		}
	}
	return nil
}

// trialLine is the one-line account of a trial in the log.
func trialLine(balance string, t Trial, n int) string {
	line := fmt.Sprintf("%s n=%d run %d: %d/%d ok, split %s, makespan %s", balance, n, t.Run, t.Successes, n, formatSplit(t.Split), t.Makespan)
	if t.Ratio > 0 {
		line += fmt.Sprintf(" = %.2f × ideal", t.Ratio)
	}
	return line
}

// formatSplit renders a split as "6/4".
func formatSplit(split []int) string {
	parts := make([]string, len(split))
	for i, c := range split {
		parts[i] = strconv.Itoa(c)
	}
	return strings.Join(parts, "/")
}

func writeResult(out string, run *Result) error {
	return experiment.WriteResult(out, FileJSON, &run.Machine, run)
}

// Load reads a balance run folder's balance.json.
func Load(dir string) (*Result, error) { return experiment.Load[Result](dir, FileJSON, "balance") }
