package main

import (
	"slices"
	"strings"
	"testing"

	"github.com/flipbench/flipbench/bench"
	"github.com/flipbench/flipbench/loadtest"
	"github.com/flipbench/flipbench/server/servertest"
)

// -workload rate is the sweep alone; the quick preset puts one step in a
// flip run; a plain flip run has none.
func TestBenchRatePlan(t *testing.T) {
	img := servertest.Photo(t)
	p, _, err := planOf(t, "-workload", "rate", "-image", img)
	if err != nil {
		t.Fatal(err)
	}
	if r := p.flip.Rate; r == nil || !slices.Equal(r.Loads, bench.DefaultLoads()) || r.ArrivalsPerStep != bench.DefaultArrivalsPerStep ||
		r.Arrivals != loadtest.ArrivalsConstant || r.SLO.String() != bench.DefaultSLO || len(p.flip.Levels) != 0 || len(p.flip.Clients) != 0 || p.flip.Out != bench.DefaultRateOutDir {
		t.Errorf("rate workload: plan %+v, levels %v, clients %v, out %s", r, p.flip.Levels, p.flip.Clients, p.flip.Out)
	}
	p, _, err = planOf(t, "-quick", "-image", img)
	if r := p.flip.Rate; err != nil || r == nil || !slices.Equal(r.Loads, bench.QuickLoads()) || r.ArrivalsPerStep != bench.QuickArrivalsPerStep {
		t.Errorf("quick: rate plan %+v, err %v; want one step of %d arrivals", r, err, bench.QuickArrivalsPerStep)
	}
	p, _, err = planOf(t, "-image", img)
	if err != nil || p.flip.Rate != nil {
		t.Errorf("flip: rate plan %+v, err %v; want none", p.flip.Rate, err)
	}
	p, _, err = planOf(t, "-workload", "rate", "-image", img, "-arrivals", "poisson", "-slo", "2s", "-loads", "0.5,1")
	if r := p.flip.Rate; err != nil || r.Seed == 0 || r.SLO.Fixed.D().String() != "2s" || len(r.Loads) != 2 {
		t.Errorf("poisson: plan %+v, err %v; want a fresh seed and a 2s SLO", r, err)
	}
}

// Bad open-model input is a one-line usage error before anything starts.
func TestBenchRateBadInput(t *testing.T) {
	img := servertest.Photo(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-workload", "rate", "-loads", "0.5,0"}, "-loads: load 0"},
		{[]string{"-workload", "rate", "-loads", "-1"}, "-loads: load -1"},
		{[]string{"-workload", "rate", "-loads", ","}, "-loads: no step"},
		{[]string{"-workload", "rate", "-loads", "none"}, "needs at least one step"},
		{[]string{"-workload", "rate", "-slo", "fast"}, "-slo"},
		{[]string{"-workload", "rate", "-slo", "0xS"}, "-slo"},
		{[]string{"-workload", "rate", "-arrivals-per-step", "0"}, "-arrivals-per-step 0"},
		{[]string{"-workload", "rate", "-arrivals", "burst"}, "-arrivals \"burst\""},
		{[]string{"-workload", "rate", "-seed", "3"}, "-seed is for"},
		{[]string{"-workload", "rate", "-levels", "10"}, "-levels is for -workload flip"},
		{[]string{"-workload", "hello", "-loads", "1"}, "-loads is for"},
	} {
		_, _, err := planOf(t, append([]string{"-image", img}, tc.args...)...)
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%v: err %v, want one line with %q", tc.args, err, tc.want)
		}
	}
}
