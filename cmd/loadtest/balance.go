package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/flipbench/flipbench/bench"
	"github.com/flipbench/flipbench/contract"
	"github.com/flipbench/flipbench/experiment/balance"
	"github.com/flipbench/flipbench/trial"
)

func balanceCmd(stdout, stderr io.Writer) command {
	fs := newFlagSet("balance", fmt.Sprintf(`Usage: loadtest balance [flags]

The balance experiment: how connections reach a cluster's workers under each
Balance policy (clustered -balance), and what that does to a burst.

Policies, each served by a bench mode (a policy whose mode or binary is missing
is skipped with a one-line reason):

%s
It runs -runs rounds: in each, every policy's server starts, warms up, takes
one burst of every size in -sizes, each on fresh connections (one per
request), and stops, in an order that rotates from round to round: a change
in the machine's load falls on every policy alike. For every run it
records the per-worker split (answers per X-Worker-PID) and, on -target flip,
makespan / ideal, where ideal = ceil(N / capacity) x S and S is the time
between answers of a burst of 10 on standard after its warm-up, as bench
measures it.

-target hello fires GET / (the pid) instead: connections that carry no work,
to test Node's claim that with SCHED_NONE "over 70%% of all connections ended up
in just two processes, out of eight" (use -workers 8 and larger -sizes).

Writes into -out: env.json, balance.json (every run's split and ratio),
balance.md (per policy and size: the split distribution, makespan / ideal min,
median and max, and the share of runs within 1.1 x ideal), balance-*.svg, and
per policy its server log and every run's raw results and reports.
Exit code 1 if a server misbehaved.`, policyTable()), stderr)
	sf := addServerFlags(fs, balance.DefaultOut)
	var (
		policies = fs.String("policies", strings.Join(balance.PolicyNames(), ","), "comma-separated policies to run: "+strings.Join(balance.PolicyNames(), ", "))
		sizes    = fs.String("sizes", joinInts(balance.DefaultSizes()), "comma-separated burst sizes")
		runs     = fs.Int("runs", balance.DefaultRuns, "bursts per policy and size (K)")
		workers  = fs.Int("workers", 0, "worker processes per cluster (0: the mode's own, one per core)")
		target   = fs.String("target", balance.TargetFlip, "what each connection asks: flip (POST /flip, a job) or hello (GET /, no work)")
		quick    = fs.Bool("quick", false, "quick preset: -image "+contract.QuickImage+" -runs 5 (explicit flags win)")
	)
	return command{fs: fs, run: func(ctx context.Context, args []string) error {
		if len(args) > 0 {
			return usagef("unexpected arguments %q", args)
		}
		set := setFlags(fs)
		if *quick {
			if !set["image"] {
				*sf.image = contract.QuickImage
			}
			if !set["runs"] {
				*runs = 5
			}
		}
		policyList, err := balance.ParsePolicies(*policies)
		if err != nil {
			return usagef("-policies: %v", err)
		}
		sizeList, err := bench.ParseLevels(*sizes)
		if err != nil {
			return usagef("-sizes: %v", err)
		}
		switch {
		case *runs < 1:
			return usagef("-runs %d: need at least 1", *runs)
		case *workers < 0:
			return usagef("-workers %d: cannot be negative", *workers)
		case *target != balance.TargetFlip && *target != balance.TargetHello:
			return usagef("-target %q: want %s or %s", *target, balance.TargetFlip, balance.TargetHello)
		}
		if err := sf.check(); err != nil {
			return err
		}

		cfg := balance.Config{
			Settings: sf.settings(fs, stderr),
			Policies: policyList, Sizes: sizeList, Runs: *runs, Workers: *workers,
			Target: *target, Timeout: *sf.timeout,
		}
		return runWorkload(ctx, stdout, stderr, "balance", *sf.out, balance.FileMD,
			func(ctx context.Context) (*balance.Result, error) { return balance.Run(ctx, cfg) }, balance.Write)
	}}
}

// policyTable lists every policy for -h with its mode, and whether this
// build has it.
func policyTable() string {
	var b strings.Builder
	for _, p := range balance.Policies() {
		about := "(no such bench mode on this build yet: skipped)"
		if m, err := trial.LookupMode(p.Mode); err == nil {
			about = m.About
		}
		fmt.Fprintf(&b, "  %-10s mode %-10s %s\n", p.Balance, p.Mode, about)
	}
	return b.String()
}
