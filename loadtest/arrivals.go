package loadtest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

// Arrival kinds of an open-model load.
const (
	// ArrivalsConstant is Artillery's arrivalRate: one arrival every 1/rate,
	// the first at 0.
	ArrivalsConstant = "constant"
	// ArrivalsPoisson draws the gaps between arrivals from the exponential
	// distribution of mean 1/rate, from a seeded source.
	ArrivalsPoisson = "poisson"
)

// MaxArrivals is the most arrivals a schedule holds: each is an offset kept
// in memory (and a result, unless the attack streams them, WithoutResults).
const MaxArrivals = 1_000_000

// poissonStream is the second word of the PCG state of a Poisson schedule;
// the seed is the first, so one seed names one schedule.
const poissonStream = 0x666c6970 // "flip"

// Schedule is the exact arrival times of an open-model load: requests are
// due at these offsets from the attack's start, whatever the server does.
// Arrivals, Rate, Duration and Seed determine Offsets, so a stored run's
// schedule (and its ideal) can be made again from its metrics.
type Schedule struct {
	Arrivals string   `json:"arrivals"`
	Rate     float64  `json:"rate"`
	Duration Duration `json:"duration"`
	// Seed is the seed of a Poisson schedule (0 for constant arrivals).
	Seed uint64 `json:"seed,omitempty"`
	// Offsets are the arrival times from the start, in ascending order.
	Offsets []time.Duration `json:"-"`
}

// NewSchedule returns the arrivals of kind (ArrivalsConstant or
// ArrivalsPoisson) at rate per second within d: rate × d of them for
// constant arrivals (Artillery's count), as many as the draws of seed put
// before d for Poisson ones. It refuses a rate or duration that gives no
// arrival, and a seed for constant arrivals, which have no use for one.
func NewSchedule(kind string, rate float64, d time.Duration, seed uint64) (Schedule, error) {
	s := Schedule{Arrivals: kind, Rate: rate, Duration: Duration(d), Seed: seed}
	switch {
	case kind != ArrivalsConstant && kind != ArrivalsPoisson:
		return s, fmt.Errorf("arrivals %q: want %s or %s", kind, ArrivalsConstant, ArrivalsPoisson)
	case math.IsNaN(rate) || math.IsInf(rate, 0) || rate <= 0:
		return s, fmt.Errorf("arrival rate %g/s: must be positive", rate)
	case d <= 0:
		return s, fmt.Errorf("arrivals for %s: duration must be positive", d)
	case rate*d.Seconds() < 1:
		return s, fmt.Errorf("%s at %g/s: too short for one arrival (need at least %s)", d, rate, time.Duration(float64(time.Second)/rate))
	case rate*d.Seconds() > MaxArrivals:
		return s, fmt.Errorf("%s at %g/s: %.0f arrivals, more than %d", d, rate, rate*d.Seconds(), MaxArrivals)
	case kind == ArrivalsConstant && seed != 0:
		return s, fmt.Errorf("seed %d: constant arrivals draw nothing (a seed is for %s)", seed, ArrivalsPoisson)
	}
	gap := float64(time.Second) / rate
	if kind == ArrivalsConstant {
		// A tiny epsilon so that 20/s for 30 s is 600, not 599 by rounding.
		n := int(math.Floor(rate*d.Seconds() + 1e-9))
		s.Offsets = make([]time.Duration, n)
		for i := range s.Offsets {
			s.Offsets[i] = time.Duration(float64(i) * gap)
		}
		return s, nil
	}
	r := rand.New(rand.NewPCG(seed, poissonStream))
	for at := r.ExpFloat64() * gap; at < float64(d); at += r.ExpFloat64() * gap {
		if len(s.Offsets) == MaxArrivals {
			break
		}
		s.Offsets = append(s.Offsets, time.Duration(at))
	}
	if len(s.Offsets) == 0 {
		return s, fmt.Errorf("poisson arrivals at %g/s for %s, seed %d: no arrival drawn before the end; give a longer duration or another seed", rate, d, seed)
	}
	return s, nil
}

// OfferedRate is the schedule's arrivals per second of its duration: the
// rate asked for constant arrivals, the rate drawn for Poisson ones.
func (s Schedule) OfferedRate() float64 {
	if s.Duration <= 0 {
		return 0
	}
	return float64(len(s.Offsets)) / s.Duration.D().Seconds()
}

// String names the schedule for people: "poisson arrivals at 20/s for 30s
// (seed 7)".
func (s Schedule) String() string {
	str := fmt.Sprintf("%s arrivals at %g/s for %s", s.Arrivals, s.Rate, s.Duration.D())
	if s.Arrivals == ArrivalsPoisson {
		str += fmt.Sprintf(" (seed %d)", s.Seed)
	}
	return str
}

// Name is the base name of the schedule's files: "open-constant-20-for-30s".
func (s Schedule) Name() string {
	return fmt.Sprintf("open-%s-%g-for-%s", s.Arrivals, s.Rate, s.Duration.D())
}

// MinLagBound is the least lag bound: scheduling a goroutine on a loaded
// 2-core machine takes up to a few milliseconds, a driver short of CPU or of
// workers (MaxOpenInFlight) takes more.
const MinLagBound = 10 * time.Millisecond

// LagBound is how late a send of s may leave after its scheduled time
// before the run is called behind its schedule: half the mean gap between
// arrivals (a send later than that lands nearer the next arrival's slot
// than its own), and at least MinLagBound.
func (s Schedule) LagBound() time.Duration {
	if s.Rate <= 0 {
		return MinLagBound
	}
	return max(MinLagBound, time.Duration(float64(time.Second)/s.Rate/2))
}

// schedulePacer paces a vegeta attack by a schedule: hit i is due at
// Offsets[i] from the attack's start. It also learns that start, which
// vegeta keeps to itself, from the first elapsed time vegeta gives it, so
// that each result's scheduled send time is known.
type schedulePacer struct {
	offsets []time.Duration
	rate    float64
	// began is set on the first Pace call, from the attack's goroutine, and
	// read after the attack's results channel is closed.
	began time.Time
}

// Pace implements vegeta.Pacer. A driver behind its schedule sends at once
// (wait 0), so it catches up rather than shifting every later arrival.
func (p *schedulePacer) Pace(elapsed time.Duration, hits uint64) (time.Duration, bool) {
	if p.began.IsZero() {
		p.began = time.Now().Add(-elapsed)
	}
	if hits >= uint64(len(p.offsets)) {
		return 0, true
	}
	return max(p.offsets[hits]-elapsed, 0), false
}

// Rate implements vegeta.Pacer: the schedule's nominal rate.
func (p *schedulePacer) Rate(time.Duration) float64 { return p.rate }
