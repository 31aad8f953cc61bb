package bench

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/flipbench/flipbench/contract"
	"github.com/flipbench/flipbench/loadtest"
	"github.com/flipbench/flipbench/runfolder"
	"github.com/flipbench/flipbench/trial"
)

// The open-model sweep's defaults: steps from well below to past capacity,
// where the knee and the overload show, each a few hundred arrivals at
// full size (the quick preset's one step fewer), at Artillery's constant
// arrivals, judged against 5 job times (see DefaultSLO).
const (
	DefaultArrivalsPerStep = 200
	QuickArrivalsPerStep   = 20
	// DefaultSLO is five times S: an answer within five job times, room
	// for a queue of four per slot. A fixed bound cannot fit every photo:
	// the article's 2 s is about two jobs on the 6.7 MB photo, where any
	// queue breaks it, and thirty on the 1 MP one, where even 1.2 ×
	// capacity for a few hundred arrivals stays within it.
	DefaultSLO = "5xS"
	// DefaultRateOutDir is the run folder of the sweep alone.
	DefaultRateOutDir = DefaultOutDir + "-rate"
)

// DefaultLoads returns the sweep's fractions of capacity.
func DefaultLoads() []float64 { return []float64{0.3, 0.5, 0.7, 0.8, 0.9, 1.0, 1.2} }

// QuickLoads returns the quick preset's one step: near the knee, below capacity.
func QuickLoads() []float64 { return []float64{0.8} }

// validateRate checks an open-model plan before anything starts.
func validateRate(p *runfolder.RatePlan) error {
	if p == nil {
		return nil
	}
	if len(p.Loads) == 0 {
		return errors.New("open-model sweep: no step")
	}
	for _, l := range p.Loads {
		if !(l > 0) || math.IsInf(l, 0) {
			return fmt.Errorf("open-model step at %g × capacity: must be positive", l)
		}
	}
	if p.ArrivalsPerStep < 1 || p.ArrivalsPerStep > loadtest.MaxArrivals {
		return fmt.Errorf("open-model steps of %d arrivals: want 1 to %d", p.ArrivalsPerStep, loadtest.MaxArrivals)
	}
	if p.Arrivals != loadtest.ArrivalsConstant && p.Arrivals != loadtest.ArrivalsPoisson {
		return fmt.Errorf("arrivals %q: want %s or %s", p.Arrivals, loadtest.ArrivalsConstant, loadtest.ArrivalsPoisson)
	}
	if p.SLO.Fixed <= 0 && !(p.SLO.TimesS > 0) {
		return errors.New("open-model sweep: no SLO")
	}
	return nil
}

// StepSchedule is the arrivals of the step at load on a server of capacity
// slots with job time s: load × capacity / s per second, for as long as
// arrivals of them take.
func StepSchedule(p runfolder.RatePlan, i int, capacity int, s time.Duration) (loadtest.Schedule, error) {
	load := p.Loads[i]
	if capacity < 1 || s <= 0 {
		return loadtest.Schedule{}, fmt.Errorf("step at %g × capacity: capacity %d, S %s unknown", load, capacity, s)
	}
	rate := load * float64(capacity) / s.Seconds()
	d := time.Duration(math.Ceil(float64(p.ArrivalsPerStep) / rate * float64(time.Second)))
	return loadtest.NewSchedule(p.Arrivals, rate, d, p.StepSeed(i))
}

// rates runs the round's open-model steps at t's server, after its bursts
// and keep-alive clients, at rates set by the S known now (this round's
// when BaselineMode has measured it, else the last round's or the trial's
// own warm-up job time): the ideal is derived later from the round's S.
func (f *flipTrial) rates(ctx context.Context, t *trial.Trial) error {
	b, mode := f.b, t.Server.Spec.Name
	p := b.c.Rate
	if p == nil || b.cur.rec.Index > max(b.c.Runs.Default, 1) {
		return nil
	}
	s := b.guessS(0)
	if s <= 0 {
		s = t.Rec.WarmupJob.D()
	}
	for i, load := range p.Loads {
		sched, err := StepSchedule(*p, i, cmp.Or(b.c.RateCapacity, t.Rec.Capacity), s)
		if err != nil {
			t.Problem("%v", err)
			return nil
		}
		st, stopped, err := f.rateStep(ctx, t, sched, load, b.guessS(t.Rec.WarmupJob.D()))
		if err != nil || ctx.Err() != nil {
			return cmp.Or(err, ctx.Err())
		}
		st.DriveS = loadtest.Duration(s)
		t.Rec.Rates = append(t.Rec.Rates, st)
		t.Logf("%s", rateLine(mode, st))
		if stopped != nil {
			t.Rec.MemoryStop = cmp.Or(t.Rec.MemoryStop, stopped)
			t.Logf("%s: %s during the step at %g × capacity; its process group was killed, on to the next mode", mode, stopped, load)
			return nil
		}
		if t.Server.Exited() || st.Metrics.Stopped != "" {
			return nil
		}
	}
	return nil
}

// rateStep runs one step under the memory guard, streaming its results to
// the trial's folder.
// slow is the job time its timeout is counted in: a step past capacity
// leaves at most all its arrivals queued.
func (f *flipTrial) rateStep(ctx context.Context, t *trial.Trial, sched loadtest.Schedule, load float64, slow time.Duration) (runfolder.RateStep, *runfolder.MemoryStop, error) {
	b, mode, name := f.b, t.Server.Spec.Name, runfolder.RateName(load)
	n := len(sched.Offsets)
	timeout := cmp.Or(b.c.Timeout, trial.AutoTimeout(n, t.Rec.Capacity, slow))
	o := loadtest.Open{Schedule: sched, KeepAlive: b.c.Rate.KeepAlive}
	rec, err := loadtest.NewRecorder(t.Dir, name)
	if err != nil {
		return runfolder.RateStep{}, nil, err
	}
	acc := loadtest.NewOpenAccumulator(o, loadtest.OpenParams{Capacity: t.Rec.Capacity, Timeout: timeout})
	inFlight, answered := openInFlight(sched)
	t.Logf("%s: step at %g × capacity: %d %s arrivals at %.2f/s for %s", mode, load, n, sched.Arrivals, sched.Rate, sched.Duration.D().Round(time.Millisecond))
	mem, lctx := trial.WatchMemory(ctx, t.Server.PID(), b.c.MaxRSS, n, inFlight)
	run, aerr := loadtest.OpenAttack(lctx, vegeta.Target{Method: http.MethodPost, URL: t.Server.URL(contract.PathFlip)}, o,
		loadtest.WithTimeout(timeout), loadtest.WithName(mode+"/"+name), loadtest.WithoutResults(),
		loadtest.WithGoneAfter(loadtest.DefaultGoneAfter),
		loadtest.WithOnResult(func(r *vegeta.Result) { answered(); rec.Add(r); acc.Add(r) }))
	_, stopped := mem.End()
	m, merr := acc.Close(run.Began)
	m.Stopped = loadtest.StoppedReason(aerr)
	if stopped != nil {
		m.Stopped = trial.StoppedMemory
	}
	if werr := rec.Close(m); werr != nil || merr != nil {
		return runfolder.RateStep{}, stopped, fmt.Errorf("%s: %w", mode, errors.Join(merr, werr))
	}
	return runfolder.RateStep{Load: load, Metrics: m}, stopped, nil
}

// openInFlight counts an open-model load's requests in flight for the
// memory guard as runfolder.MemoryStop means them, sent (due by the
// schedule) and not yet answered, not every arrival still to come; call
// answered once per result.
func openInFlight(sched loadtest.Schedule) (inFlight func() int, answered func()) {
	var done atomic.Int64
	begin := time.Now()
	inFlight = func() int {
		due, _ := slices.BinarySearch(sched.Offsets, time.Since(begin))
		return due - int(done.Load())
	}
	answered = func() { done.Add(1) }
	return inFlight, answered
}

// rateLine is the one-line account of an open-model step in the bench log.
func rateLine(mode string, st runfolder.RateStep) string {
	m := st.Metrics
	line := fmt.Sprintf("%s at %g × capacity: offered %.2f/s, goodput %.2f/s, p50 %s, p90 %s, p99 %s, max %s, %d shed, %d failed",
		mode, st.Load, m.OfferedRate, m.Goodput, m.Latency.Median, m.Latency.P90, m.Latency.P99, m.Latency.Max, m.Shed, m.Failed)
	if m.Behind {
		line += fmt.Sprintf(", driver BEHIND its schedule (a send %s late)", m.Lag.Max)
	}
	if m.Stopped != "" {
		line += ", stopped: " + m.Stopped
	}
	return line
}

// rateTime is how long p's steps take on a server of one slot with job
// time s.
func rateTime(p *runfolder.RatePlan, s time.Duration) time.Duration {
	if p == nil {
		return 0
	}
	var d time.Duration
	for _, l := range p.Loads {
		d += time.Duration(float64(p.ArrivalsPerStep) / l * float64(s))
	}
	return d
}
