package main

import (
	"flag"
	"math/rand/v2"
	"strconv"

	"github.com/flipbench/flipbench/bench"
	"github.com/flipbench/flipbench/loadtest"
	"github.com/flipbench/flipbench/runfolder"
)

// workloadRate is bench's open-model sweep alone: no bursts, no keep-alive
// clients, the steps at every default load.
const workloadRate = "rate"

// rateFlags are bench's open-model flags, for the rate workload and for
// steps after a flip workload's keep-alive clients.
type rateFlags struct {
	loads, arrivals, slo *string
	perStep              *int
	seed                 *uint64
	keepAlive            *bool
}

// addRateFlags registers the open-model flags on bench's fs.
func addRateFlags(fs *flag.FlagSet) *rateFlags {
	return &rateFlags{
		loads: fs.String("loads", "", "open-model steps as fractions of each mode's capacity (job slots / S), or none (default: "+
			runfolder.JoinLoads(bench.DefaultLoads())+" with -workload rate, none with flip, "+runfolder.JoinLoads(bench.QuickLoads())+" with -quick)"),
		perStep:   fs.Int("arrivals-per-step", bench.DefaultArrivalsPerStep, "arrivals of each open-model step (quick: "+strconv.Itoa(bench.QuickArrivalsPerStep)+")"),
		arrivals:  fs.String("arrivals", loadtest.ArrivalsConstant, "open-model arrivals: constant (Artillery's arrivalRate) or poisson (seeded exponential gaps)"),
		seed:      fs.Uint64("seed", 0, "seed of -arrivals poisson, step i drawing from seed + i (0: a fresh one, recorded)"),
		keepAlive: fs.Bool("keep-alive", false, "open-model steps send on a pool of kept-alive connections instead of a fresh connection per arrival"),
		slo:       fs.String("slo", bench.DefaultSLO, "p99 bound of the capacity answer: a duration (2s) or a multiple of S (5xS)"),
	}
}

// plan returns the open-model plan the flags ask for (nil: no step),
// checked before anything starts.
func (r *rateFlags) plan(workload string, quick bool, set map[string]bool) (*runfolder.RatePlan, error) {
	switch {
	case set["loads"]:
	case workload == workloadRate:
		*r.loads = runfolder.JoinLoads(bench.DefaultLoads())
	case quick:
		*r.loads = runfolder.JoinLoads(bench.QuickLoads())
	default:
		*r.loads = "none"
	}
	if quick && !set["arrivals-per-step"] {
		*r.perStep = bench.QuickArrivalsPerStep
	}
	loads, err := bench.ParseLoads(*r.loads)
	if err != nil {
		return nil, usagef("-loads: %v", err)
	}
	if loads == nil {
		if workload == workloadRate {
			return nil, usagef("-loads none: -workload rate needs at least one step")
		}
		return nil, nil
	}
	slo, err := runfolder.ParseSLO(*r.slo)
	if err != nil {
		return nil, usagef("-slo: %v", err)
	}
	if *r.perStep < 1 || *r.perStep > loadtest.MaxArrivals {
		return nil, usagef("-arrivals-per-step %d: a step needs 1 to %d arrivals", *r.perStep, loadtest.MaxArrivals)
	}
	p := &runfolder.RatePlan{Loads: loads, ArrivalsPerStep: *r.perStep, Arrivals: *r.arrivals, Seed: *r.seed, KeepAlive: *r.keepAlive, SLO: slo}
	switch {
	case p.Arrivals != loadtest.ArrivalsConstant && p.Arrivals != loadtest.ArrivalsPoisson:
		return nil, usagef("-arrivals %q: want %s or %s", p.Arrivals, loadtest.ArrivalsConstant, loadtest.ArrivalsPoisson)
	case p.Arrivals == loadtest.ArrivalsConstant && set["seed"]:
		return nil, usagef("-seed is for -arrivals %s: constant arrivals draw nothing", loadtest.ArrivalsPoisson)
	case p.Arrivals == loadtest.ArrivalsPoisson && p.Seed == 0:
		p.Seed = rand.Uint64()
	}
	return p, nil
}
