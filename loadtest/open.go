package loadtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// MaxOpenInFlight is the default cap on the requests an open-model attack
// has in flight (one vegeta worker, and one connection, each). At 20
// arrivals/s and a 10 s client timeout at most 200 are; when the cap is
// reached, the next arrival waits for a worker to free, is sent late, and
// the run's lag says so (OpenMetrics.Lag, Behind), while its latency,
// counted from its scheduled time, still holds the wait.
const MaxOpenInFlight = maxSustainWorkers

// Open is an open-model load: requests arrive on Schedule whatever the
// server does, the load shape of Artillery's arrival phases.
type Open struct {
	Schedule Schedule
	// KeepAlive sends on a pool of kept-alive connections (a new one when
	// every open one is busy) instead of a fresh connection per arrival, as
	// Artillery does.
	KeepAlive bool
	// MaxInFlight caps the requests in flight (0: MaxOpenInFlight).
	MaxInFlight int
}

// OpenRun is what an open-model attack did: the schedule it followed, the
// instant it started (every arrival is due at Began + its offset) and one
// result per arrival sent, sorted by send time. A result's Seq is its
// arrival's index in the schedule.
type OpenRun struct {
	Schedule  Schedule
	KeepAlive bool
	Began     time.Time
	Results   vegeta.Results
}

// Scheduled returns the time r was due: Began + its arrival's offset.
func (run OpenRun) Scheduled(r *vegeta.Result) (time.Time, bool) {
	if r.Seq >= uint64(len(run.Schedule.Offsets)) {
		return time.Time{}, false
	}
	return run.Began.Add(run.Schedule.Offsets[r.Seq]), true
}

// OpenAttack runs the open-model load o against tgt. Each arrival is sent
// at its scheduled time by a free vegeta worker; workers are added while all
// are busy, up to o.MaxInFlight. Non-2xx answers and connection errors are
// results, not errors; the error is for bad input and cancellation (then
// with the results so far).
//
// It shares vegeta's attacker with Burst and Sustain but not their loop,
// which always opens a fresh connection: when the results stream to their
// file, this loop should stream the same way.
func OpenAttack(ctx context.Context, tgt vegeta.Target, o Open, opts ...Option) (OpenRun, error) {
	run := OpenRun{Schedule: o.Schedule, KeepAlive: o.KeepAlive}
	if len(o.Schedule.Offsets) == 0 {
		return run, errors.New("open-model attack: the schedule has no arrival")
	}
	cfg := newAttackConfig(opts)
	if err := prepare(ctx, &tgt, cfg); err != nil {
		return run, err
	}
	limit := uint64(MaxOpenInFlight)
	if o.MaxInFlight > 0 {
		limit = uint64(o.MaxInFlight)
	}
	client := NewClient(ctx, cfg.timeout)
	if o.KeepAlive {
		client = poolClient(ctx, cfg.timeout)
	}
	atk := vegeta.NewAttacker(
		vegeta.Client(client),
		vegeta.Workers(min(vegeta.DefaultWorkers, limit)),
		vegeta.MaxWorkers(limit),
		vegeta.MaxBody(cfg.maxBody),
		vegeta.Redirects(vegeta.NoFollow),
	)
	defer context.AfterFunc(ctx, func() { atk.Stop() })()

	p := &schedulePacer{offsets: o.Schedule.Offsets, rate: o.Schedule.Rate}
	// Duration 0: the pacer ends the attack after the last arrival.
	for r := range atk.Attack(vegeta.NewStaticTargeter(tgt), p, 0, cfg.name) {
		run.Results.Add(r)
		if cfg.onResult != nil {
			cfg.onResult(r)
		}
	}
	run.Results.Close()
	run.Began = p.began
	if err := ctx.Err(); err != nil {
		return run, fmt.Errorf("open-model attack on %s stopped after %d of %d arrivals: %w", tgt.URL, len(run.Results), len(o.Schedule.Offsets), err)
	}
	return run, nil
}

// poolClient is NewClient with kept-alive connections: an arrival takes an
// idle connection when there is one and opens another when there is not.
func poolClient(ctx context.Context, timeout time.Duration) *http.Client {
	pool := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 30 * time.Second}).DialContext,
		DisableCompression:  true,
		MaxIdleConnsPerHost: MaxOpenInFlight,
		IdleConnTimeout:     time.Minute,
	}
	return &http.Client{Timeout: timeout, Transport: ctxTransport{ctx: ctx, base: pool}}
}
