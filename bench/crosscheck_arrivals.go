package bench

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"path/filepath"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/flipbench/flipbench/contract"
	"github.com/flipbench/flipbench/internal/artillery"
	"github.com/flipbench/flipbench/loadtest"
	"github.com/flipbench/flipbench/runfolder"
	"github.com/flipbench/flipbench/trial"
)

// Defaults of the cross-check's arrivals, the article's artillery.yaml
// (arrivalRate 20 for 30 s) scaled to the photo.
const (
	// DefaultArrivalsDuration is the article's phase.
	DefaultArrivalsDuration = 30 * time.Second
	// ArrivalsLoad is the default rate in job slots' capacities (1/S): the
	// article's 20/s on the 1 MP photo, where one slot answers 13-16/s, is
	// past one core's capacity and within two cores'.
	ArrivalsLoad = 1.5
	// ArticleRate is the article's arrivalRate, the rate when S could not
	// be measured.
	ArticleRate = 20
)

// CrossArrivals is the article's load in a cross-check; zero values take
// the defaults noted.
type CrossArrivals struct {
	Off      bool          // no Artillery and no open model
	Rate     float64       // arrivals per second; 0: ArrivalsLoad / S, whole
	Duration time.Duration // whole seconds; DefaultArrivalsDuration
}

// Validate says in one line what is wrong with a, filled, before anything
// starts.
func (a CrossArrivals) Validate() error {
	switch {
	case a.Off:
		return nil
	case a.Rate < 0 || math.IsNaN(a.Rate) || math.IsInf(a.Rate, 0):
		return fmt.Errorf("artillery rate %g: want arrivals per second above 0, or 0 for %.1f/S", a.Rate, ArrivalsLoad)
	case a.Duration < time.Second || a.Duration%time.Second != 0:
		return fmt.Errorf("artillery duration %s: Artillery's phase takes whole seconds, at least 1s", a.Duration)
	case a.Rate > 0:
		if _, err := loadtest.NewSchedule(loadtest.ArrivalsConstant, a.Rate, a.Duration, 0); err != nil {
			return fmt.Errorf("artillery load: %w", err)
		}
	}
	return nil
}

// chooseArrivals measures S on BaselineMode in Out/DirS and sets the rate
// from it when none was given.
func (c CrossConfig) chooseArrivals(ctx context.Context, h *trial.Harness) (*runfolder.CrossArrivals, error) {
	a := &runfolder.CrossArrivals{Rate: c.Arrivals.Rate, Duration: loadtest.Duration(c.Arrivals.Duration),
		Timeout: loadtest.Duration(artillery.DefaultTimeout), RateFrom: "given"}
	s, rec, err := RunS(ctx, h, 1, filepath.Join(c.Out, runfolder.DirS))
	if err != nil {
		return nil, err
	}
	if s != nil {
		a.S = s.S
	} else {
		fmt.Fprintf(c.Log, "arrivals: S not measured on %s: %v\n", runfolder.BaselineMode, rec.Problems)
	}
	switch {
	case a.Rate > 0:
	case a.S > 0:
		a.Rate = max(1, math.Round(ArrivalsLoad/a.S.D().Seconds()))
		a.RateFrom = fmt.Sprintf("%.1f/S, S %s on %s", ArrivalsLoad, a.S, runfolder.BaselineMode)
	default:
		a.Rate, a.RateFrom = ArticleRate, "the article's (S not measured)"
	}
	if _, err := loadtest.NewSchedule(loadtest.ArrivalsConstant, a.Rate, a.Duration.D(), 0); err != nil {
		return nil, fmt.Errorf("artillery load: %w", err)
	}
	fmt.Fprintf(c.Log, "arrivals: %g/s for %s, POST /flip on fresh connections, %s timeout (rate: %s)\n",
		a.Rate, a.Duration, a.Timeout, a.RateFrom)
	return a, nil
}

// arrivalsRun loads one mode with the article's arrivals: Artillery (unless
// whyNoArtillery) and the project's open model, each on a fresh start of
// spec's server in a folder of its own under dir.
type arrivalsRun struct {
	c              CrossConfig
	a              *runfolder.CrossArrivals
	whyNoArtillery string
	row            *CrossRow
}

// run runs both loads at spec into row.
func (r arrivalsRun) run(ctx context.Context, h *trial.Harness, spec trial.Spec, dir string) error {
	if r.whyNoArtillery == "" {
		rec, _, err := h.Run(ctx, spec, 1, filepath.Join(dir, "artillery"), r.artillery)
		r.problems("artillery", rec)
		if err != nil {
			return err
		}
	}
	rec, _, err := h.Run(ctx, spec, 1, filepath.Join(dir, "open"), r.open)
	r.problems("open model", rec)
	return err
}

// problems adds rec's problems and memory stop to the row.
func (r arrivalsRun) problems(what string, rec runfolder.Trial) {
	for _, p := range rec.Problems {
		r.row.Problems = append(r.row.Problems, what+": "+p)
	}
	if rec.MemoryStop != nil {
		r.row.Problems = append(r.row.Problems, what+": "+rec.MemoryStop.String())
	}
	r.row.NoteBusy(rec, what)
}

// arrivals is how many requests the load sends.
func (r arrivalsRun) arrivals() int {
	return int(math.Floor(r.a.Rate*r.a.Duration.D().Seconds() + 1e-9))
}

// artillery is the trial's Measure: Artillery at the arrivals, under the
// memory guard.
func (r arrivalsRun) artillery(ctx context.Context, t *trial.Trial) error {
	name, n := t.Server.Spec.Name, r.arrivals()
	// Artillery does not say what it has in flight: -1 is unknown.
	mem, load := trial.WatchMemory(ctx, t.Server.PID(), r.c.MaxRSS, n, func() int { return -1 })
	a, err := artillery.Run(load, r.c.NodeApp, artillery.Load{URL: t.Server.URL(contract.PathFlip),
		Rate: r.a.Rate, Duration: r.a.Duration.D(), Timeout: r.a.Timeout.D()})
	_, stopped := mem.End()
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case stopped != nil:
		t.Rec.MemoryStop = stopped
		r.row.ArtillerySkipped = stopped.String()
		t.Logf("%s: artillery: %s", name, stopped)
		return nil
	case err != nil:
		r.row.ArtillerySkipped = err.Error()
		t.Logf("%s: %v", name, err)
		return nil
	}
	if err := loadtest.WriteJSON(filepath.Join(t.Dir, runfolder.FileArtillery), a); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	r.row.Artillery = a
	t.Logf("%s: artillery: %d of %d answered, %.2f/s, p50 %.0f ms, p99 %.0f ms, %d non-2xx, %d unanswered",
		name, a.Answers, a.Requests, a.Throughput, a.P50, a.P99, a.Non2xx(), a.Unanswered())
	return nil
}

// open is the trial's Measure: the project's open model at the arrivals,
// constant and on fresh connections as Artillery sends them, under the
// memory guard.
func (r arrivalsRun) open(ctx context.Context, t *trial.Trial) error {
	name := t.Server.Spec.Name
	sched, err := loadtest.NewSchedule(loadtest.ArrivalsConstant, r.a.Rate, r.a.Duration.D(), 0)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	inFlight, answered := openInFlight(sched)
	mem, load := trial.WatchMemory(ctx, t.Server.PID(), r.c.MaxRSS, len(sched.Offsets), inFlight)
	run, err := loadtest.OpenAttack(load, vegeta.Target{Method: http.MethodPost, URL: t.Server.URL(contract.PathFlip)},
		loadtest.Open{Schedule: sched}, loadtest.WithTimeout(r.a.Timeout.D()), loadtest.WithName(name+"/"+sched.Name()),
		loadtest.WithGoneAfter(loadtest.DefaultGoneAfter), loadtest.WithOnResult(func(*vegeta.Result) { answered() }))
	_, stopped := mem.End()
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case err != nil && stopped == nil && !errors.Is(err, loadtest.ErrServerGone):
		t.Problem("%s: %v", sched, err)
		return nil
	}
	m, merr := loadtest.ComputeOpen(run, loadtest.OpenParams{Capacity: t.Rec.Capacity, S: r.a.S.D(), Timeout: r.a.Timeout.D()})
	if merr != nil {
		t.Problem("%s: %v", sched, merr)
		return nil
	}
	m.Stopped = loadtest.StoppedReason(err)
	if err := loadtest.WriteOpen(t.Dir, sched.Name(), run, m); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	f := openFigures(run, m)
	r.row.Open = f
	t.Rec.MemoryStop = cmp.Or(t.Rec.MemoryStop, stopped)
	t.Logf("%s: open model: %d of %d answered, %.2f/s, p50 %.0f ms, p99 %.0f ms, %d non-2xx, %d unanswered",
		name, f.Answers, f.Requests, f.Throughput, f.P50, f.P99, f.Non2xx, f.Unanswered)
	return nil
}

// openFigures counts an open-model run as Artillery counts its own: 2xx
// answers per second of the phase, latency from send over 2xx answers.
func openFigures(run loadtest.OpenRun, m loadtest.OpenMetrics) *runfolder.OpenFigures {
	var lat []time.Duration
	f := &runfolder.OpenFigures{Requests: len(run.Results), Errors: m.Errors, Behind: m.Behind, Stopped: m.Stopped,
		P99Scheduled: ms(m.Latency.P99), IdealP99: ms(m.Ideal.P99)}
	for _, res := range run.Results {
		switch {
		case res.Code >= 200 && res.Code < 300:
			lat = append(lat, res.Latency)
		case res.Code != 0:
			f.Non2xx++
		default:
			f.Unanswered++
		}
	}
	f.Answers = len(lat)
	f.Throughput = float64(f.Answers) / run.Schedule.Duration.D().Seconds()
	d := loadtest.NewDist(lat)
	f.P50, f.P99 = ms(d.Median), ms(d.P99)
	return f
}

// ms is d in milliseconds.
func ms(d loadtest.Duration) float64 { return float64(d.D()) / float64(time.Millisecond) }
