package runfolder

import (
	"slices"
	"time"

	"github.com/flipbench/flipbench/internal/stats"
	"github.com/flipbench/flipbench/loadtest"
	"github.com/flipbench/flipbench/queueing"
)

// RateFigures are one mode's figures at one step of the sweep over its
// rounds, each a median with its interval. Durations are in seconds.
type RateFigures struct {
	Mode   string  `json:"mode"`
	Load   float64 `json:"load"`
	Rounds int     `json:"rounds"`
	// Offered is arrivals/s, Goodput 2xx answers/s.
	Offered stats.Interval `json:"offered_rate"`
	Goodput stats.Interval `json:"goodput"`
	P50     stats.Interval `json:"p50"`
	P90     stats.Interval `json:"p90"`
	P99     stats.Interval `json:"p99"`
	Max     stats.Interval `json:"max"`
	// Queue is the server's median queue time (its queue-time header).
	Queue stats.Interval `json:"queue_p50"`
	// IdealP50 and IdealP99 are an ideal FIFO server's (the trial's
	// capacity, the round's S) for the step's exact arrivals; P50Ratio and
	// P99Ratio the measured over them, round by round.
	IdealP50 stats.Interval `json:"ideal_p50"`
	IdealP99 stats.Interval `json:"ideal_p99"`
	P50Ratio stats.Interval `json:"p50_over_ideal"`
	P99Ratio stats.Interval `json:"p99_over_ideal"`
	// Failed and Shed are summed over the rounds; Behind counts the rounds
	// whose driver fell behind its schedule; Stopped lists why a round's
	// step ended early.
	Failed  int      `json:"failed"`
	Shed    int      `json:"shed"`
	Behind  int      `json:"behind"`
	Stopped []string `json:"stopped,omitempty"`
}

// Held reports whether the step kept its p99 within slo with nothing shed,
// failed or stopped in any round.
func (f RateFigures) Held(slo time.Duration) bool {
	return f.Rounds > 0 && slo > 0 && f.P99.Median <= slo.Seconds() && f.Failed == 0 && f.Shed == 0 && len(f.Stopped) == 0
}

// RateCapacity is a mode's answer to "how much can it take": the highest
// median offered rate among its held steps (0: none held) and the highest
// median goodput of any step.
type RateCapacity struct {
	Mode       string  `json:"mode"`
	HeldRate   float64 `json:"held_rate"`
	HeldLoad   float64 `json:"held_load"`
	MaxGoodput float64 `json:"max_goodput"`
}

// RateOf returns the run's sweep figures, mode by mode in report order and
// step by step in load order, with the ideal derived from each round's S.
func RateOf(sum *Summary) []RateFigures {
	if sum.Rate == nil {
		return nil
	}
	loads := slices.Clone(sum.Rate.Loads)
	slices.Sort(loads)
	var out []RateFigures
	no := noIdeal(sum)
	for _, m := range sum.Modes {
		ideal := !slices.Contains(no, m.Mode)
		for _, l := range loads {
			if f, ok := rateFigures(sum, m, l, ideal); ok {
				out = append(out, f)
			}
		}
	}
	return out
}

// rateFigures derives mode m's figures at load over its rounds, with the
// ideal when the mode has one (it runs on S's engine).
func rateFigures(sum *Summary, m ModeRun, load float64, hasIdeal bool) (RateFigures, bool) {
	f := RateFigures{Mode: m.Mode, Load: load}
	var off, good, p50, p90, p99, mx, q, i50, i99, r50, r99 []float64
	for _, t := range m.Trials() {
		st, ok := t.Rate(load)
		if !ok {
			continue
		}
		o := st.Metrics
		f.Rounds++
		off, good = append(off, o.OfferedRate), append(good, o.Goodput)
		p50, p90 = append(p50, o.Latency.Median.D().Seconds()), append(p90, o.Latency.P90.D().Seconds())
		p99, mx = append(p99, o.Latency.P99.D().Seconds()), append(mx, o.Latency.Max.D().Seconds())
		if o.QueueTime.Count > 0 {
			q = append(q, o.QueueTime.Median.D().Seconds())
		}
		f.Failed += o.Failed
		f.Shed += o.Shed
		if o.Behind {
			f.Behind++
		}
		if o.Stopped != "" {
			f.Stopped = append(f.Stopped, o.Stopped)
		}
		if !hasIdeal {
			continue
		}
		if ideal, ok := StepIdeal(o, t.Capacity, sum.RoundS(t.RoundOf()).D()); ok {
			i50, i99 = append(i50, ideal.Median.D().Seconds()), append(i99, ideal.P99.D().Seconds())
			r50 = append(r50, o.Latency.Median.D().Seconds()/ideal.Median.D().Seconds())
			r99 = append(r99, o.Latency.P99.D().Seconds()/ideal.P99.D().Seconds())
		}
	}
	if f.Rounds == 0 {
		return f, false
	}
	f.Offered, f.Goodput = stats.Summarize(off), stats.Summarize(good)
	f.P50, f.P90, f.P99, f.Max = stats.Summarize(p50), stats.Summarize(p90), stats.Summarize(p99), stats.Summarize(mx)
	f.Queue = stats.Summarize(q)
	f.IdealP50, f.IdealP99 = stats.Summarize(i50), stats.Summarize(i99)
	f.P50Ratio, f.P99Ratio = stats.Summarize(r50), stats.Summarize(r99)
	return f, true
}

// StepIdeal is the latency an ideal FIFO server of capacity slots and job
// time s gives the arrivals the step sent: its schedule made again from the
// stored kind, rate, duration and seed, cut to the requests sent when the
// step was stopped. ok is false when s or capacity is unknown or the
// schedule cannot be made again.
func StepIdeal(o loadtest.OpenMetrics, capacity int, s time.Duration) (loadtest.Dist, bool) {
	if s <= 0 || capacity < 1 {
		return loadtest.Dist{}, false
	}
	arrivals, ok := stepArrivals(o)
	if !ok {
		return loadtest.Dist{}, false
	}
	d, err := loadtest.IdealDist(arrivals, capacity, s)
	return d, err == nil
}

// StepJobIdeal is StepIdeal with each arrival's job as long as the server
// said it took (OpenMetrics.JobTimes) instead of one S: the queueing a
// FIFO of slots would have left, whatever slowed the jobs. ok is false
// unless every arrival was sent and its answer told its job time.
func StepJobIdeal(o loadtest.OpenMetrics, slots int) (loadtest.Dist, bool) {
	arrivals, ok := stepArrivals(o)
	if !ok || len(arrivals) != o.Scheduled || len(o.JobTimes) != len(arrivals) {
		return loadtest.Dist{}, false
	}
	jobs := make([]time.Duration, len(o.JobTimes))
	for i, j := range o.JobTimes {
		jobs[i] = j.D()
	}
	lat, err := queueing.FIFO{Slots: slots}.LatenciesOf(arrivals, jobs)
	if err != nil {
		return loadtest.Dist{}, false
	}
	return loadtest.NewDist(lat), true
}

// stepArrivals makes the step's schedule again from its stored fields, cut
// to the requests sent.
func stepArrivals(o loadtest.OpenMetrics) ([]time.Duration, bool) {
	sc := o.Schedule
	again, err := loadtest.NewSchedule(sc.Arrivals, sc.Rate, sc.Duration.D(), sc.Seed)
	if err != nil || len(again.Offsets) == 0 {
		return nil, false
	}
	arrivals := again.Offsets
	if o.Requests > 0 && o.Requests < len(arrivals) {
		arrivals = arrivals[:o.Requests]
	}
	return arrivals, true
}

// RateSLO is the run's SLO in seconds: a multiple of S counts in the median
// S over the rounds; 0 when there is no sweep or no S.
func RateSLO(sum *Summary) time.Duration {
	if sum.Rate == nil {
		return 0
	}
	s := time.Duration(stats.Summarize(roundSs(sum)).Median * float64(time.Second))
	return sum.Rate.SLO.For(s)
}

// Capacities returns each mode's capacity answer from figs under slo.
func Capacities(figs []RateFigures, slo time.Duration) []RateCapacity {
	var out []RateCapacity
	for _, f := range figs {
		i := slices.IndexFunc(out, func(c RateCapacity) bool { return c.Mode == f.Mode })
		if i < 0 {
			out = append(out, RateCapacity{Mode: f.Mode})
			i = len(out) - 1
		}
		c := &out[i]
		c.MaxGoodput = max(c.MaxGoodput, f.Goodput.Median)
		if f.Held(slo) && f.Offered.Median > c.HeldRate {
			c.HeldRate, c.HeldLoad = f.Offered.Median, f.Load
		}
	}
	return out
}
