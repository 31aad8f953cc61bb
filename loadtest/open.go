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
// instant it started (every arrival is due at Began + its offset) and, unless
// the attack was told WithoutResults, one result per arrival sent, sorted by
// send time. A result's Seq is its arrival's index in the schedule.
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
// with the results so far and an error wrapping ctx's cause, see
// StoppedReason).
//
// It runs on the loop of Burst and Sustain, so it takes the same options: with
// WithoutResults and a Recorder and OpenAccumulator in WithOnResult, its
// memory is the schedule's, whatever the error rate; with WithGoneAfter,
// when for that long every arrival was refused and none answered, it ends
// early with ErrServerGone.
func OpenAttack(ctx context.Context, tgt vegeta.Target, o Open, opts ...Option) (OpenRun, error) {
	run := OpenRun{Schedule: o.Schedule, KeepAlive: o.KeepAlive}
	if len(o.Schedule.Offsets) == 0 {
		return run, errors.New("open-model attack: the schedule has no arrival")
	}
	limit := uint64(MaxOpenInFlight)
	if o.MaxInFlight > 0 {
		limit = uint64(o.MaxInFlight)
	}
	client := NewClient
	if o.KeepAlive {
		client = poolClient
	}
	p := &schedulePacer{offsets: o.Schedule.Offsets, rate: o.Schedule.Rate}
	rs, err := attack(ctx, tgt, volley{
		what: fmt.Sprintf("open-model attack of %d arrivals", len(o.Schedule.Offsets)),
		// Duration 0: the pacer ends the attack after the last arrival.
		pacer: p, workers: vegeta.DefaultWorkers, maxWorkers: limit, client: client,
	}, newAttackConfig(opts))
	// The pacer learnt the start before the first send; the attack is over.
	run.Results, run.Began = rs, p.began
	return run, err
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
