package runfolder

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/flipbench/flipbench/loadtest"
)

// RatePlan is the open-model sweep a run asked for: per mode, steps at
// Loads × its capacity (job slots / the round's S), each of about
// ArrivalsPerStep arrivals of kind Arrivals, and the SLO its capacity
// answer is judged by.
type RatePlan struct {
	Loads           []float64 `json:"loads"`
	ArrivalsPerStep int       `json:"arrivals_per_step"`
	Arrivals        string    `json:"arrivals"`
	// Seed is the first step's Poisson seed; step i draws from Seed + i, so
	// every mode and round gets the same draws at the same step.
	Seed      uint64 `json:"seed,omitempty"`
	KeepAlive bool   `json:"keep_alive,omitempty"`
	SLO       SLO    `json:"slo"`
}

// StepSeed is step i's Poisson seed (0 for constant arrivals).
func (p RatePlan) StepSeed(i int) uint64 {
	if p.Arrivals != loadtest.ArrivalsPoisson {
		return 0
	}
	return p.Seed + uint64(i)
}

// SLO is the p99 a step must stay within to count as held: a fixed
// duration, or a multiple of S (TimesS), which fits any photo.
type SLO struct {
	Fixed  loadtest.Duration `json:"fixed,omitempty"`
	TimesS float64           `json:"times_s,omitempty"`
}

// ParseSLO reads "2s" (a fixed bound) or "5xS" (five times the run's S).
func ParseSLO(s string) (SLO, error) {
	t := strings.TrimSpace(s)
	if k, ok := strings.CutSuffix(t, "xS"); ok {
		f, err := strconv.ParseFloat(k, 64)
		if err != nil || !(f > 0) || f > 1e6 {
			return SLO{}, fmt.Errorf("slo %q: want a positive multiple of S like 5xS", s)
		}
		return SLO{TimesS: f}, nil
	}
	d, err := time.ParseDuration(t)
	if err != nil || d <= 0 {
		return SLO{}, fmt.Errorf("slo %q: want a duration like 2s or a multiple of S like 5xS", s)
	}
	return SLO{Fixed: loadtest.Duration(d)}, nil
}

// For returns the bound for a run whose S is s (0 when it is a multiple of
// an unknown S).
func (o SLO) For(s time.Duration) time.Duration {
	if o.Fixed > 0 {
		return o.Fixed.D()
	}
	return time.Duration(o.TimesS * float64(s))
}

// String renders o as ParseSLO reads it.
func (o SLO) String() string {
	if o.Fixed > 0 {
		return o.Fixed.D().String()
	}
	return strconv.FormatFloat(o.TimesS, 'g', -1, 64) + "xS"
}

// RateStep is one open-model step of a trial. Metrics hold only what was
// measured: the ideal and the ratios to it depend on the round's S, known
// at the round's end, and are derived from Metrics.Schedule (whose kind,
// rate, duration and seed make its arrivals again) when figures are built.
type RateStep struct {
	// Load is the fraction of capacity asked; DriveS the S the rate was
	// set by (the round's, or the last round's when this round's was not
	// yet measured).
	Load    float64              `json:"load"`
	DriveS  loadtest.Duration    `json:"drive_s"`
	Metrics loadtest.OpenMetrics `json:"metrics"`
}

// RateName is the base name of the files of the step at load.
func RateName(load float64) string {
	return "rate-" + strconv.FormatFloat(load, 'g', -1, 64)
}

// Rate returns the trial's step at load, if it ran.
func (t Trial) Rate(load float64) (RateStep, bool) {
	for _, r := range t.Rates {
		if r.Load == load {
			return r, true
		}
	}
	return RateStep{}, false
}

// JoinLoads renders loads as -loads reads them: "0.5,0.8,1.2".
func JoinLoads(loads []float64) string {
	s := make([]string, len(loads))
	for i, l := range loads {
		s[i] = strconv.FormatFloat(l, 'g', -1, 64)
	}
	return strings.Join(s, ",")
}
