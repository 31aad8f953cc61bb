package loadtest

import (
	"fmt"
	"net/http"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/flipbench/flipbench/contract"
)

// OpenAccumulator computes an open-model run's OpenMetrics one result at a
// time (Add per result, Close at the end), holding no result: what it keeps
// beyond the schedule's offsets is bounded as an Accumulator's is (see
// Dist). ComputeOpen is one over a slice. Use NewOpenAccumulator.
//
// A result's time from its schedule needs the run's start, which the
// attack learns from vegeta and returns only at its end (OpenRun.Began); Add
// counts it from the first result's own start instead, and Close moves the
// distributions to the run's (every percentile moves with its values).
type OpenAccumulator struct {
	m       OpenMetrics
	offsets []time.Duration
	base    *Accumulator // what every attack counts: codes, errors, latency from send, queue, workers
	// fromSchedule and lag are counted from anchor, the first result's
	// scheduled time as its own send tells it.
	fromSchedule, lag distAcc
	anchor            time.Time
	jobs              []Duration // by arrival: the schedule's size, made at the first job time
	lastOK            time.Time
	sent              uint64 // arrivals sent: the highest Seq + 1
	err               error  // the first result with no arrival
}

// NewOpenAccumulator returns an empty accumulator of a run of the load o,
// its metrics computed with p.
func NewOpenAccumulator(o Open, p OpenParams) *OpenAccumulator {
	s := o.Schedule
	if p.LagBound <= 0 {
		p.LagBound = s.LagBound()
	}
	return &OpenAccumulator{
		offsets: s.Offsets,
		base:    NewAccumulator(Params{Timeout: p.Timeout}),
		m: OpenMetrics{
			Schedule:    s,
			KeepAlive:   o.KeepAlive,
			Scheduled:   len(s.Offsets),
			OfferedRate: s.OfferedRate(),
			LagBound:    Duration(p.LagBound),
			Capacity:    p.Capacity,
			S:           Duration(p.S),
			Timeout:     Duration(p.Timeout),
		},
	}
}

// Add counts r, whose Seq is its arrival's index in the schedule; a result
// with no arrival is left out and makes Close's error.
func (a *OpenAccumulator) Add(r *vegeta.Result) {
	if r.Seq >= uint64(len(a.offsets)) {
		if a.err == nil {
			a.err = fmt.Errorf("result %d has no arrival in a schedule of %d", r.Seq, len(a.offsets))
		}
		return
	}
	a.base.Add(r)
	off := a.offsets[r.Seq]
	if a.anchor.IsZero() {
		a.anchor = r.Timestamp.Add(-off)
	}
	a.fromSchedule.add(r.End().Sub(a.anchor) - off)
	a.lag.add(r.Timestamp.Sub(a.anchor) - off)
	a.sent = max(a.sent, r.Seq+1)
	if d, ok := HeaderDuration(r.Headers, contract.HeaderJobTime); ok && d > 0 {
		if a.jobs == nil {
			a.jobs = make([]Duration, len(a.offsets))
		}
		a.jobs[r.Seq] = Duration(d)
	}
	switch {
	case r.Code >= 200 && r.Code < 300 && r.Error == "":
		if end := r.End(); end.After(a.lastOK) {
			a.lastOK = end
		}
	case r.Code == http.StatusServiceUnavailable:
		a.m.Shed++
	default:
		a.m.Failed++
	}
}

// Close returns the metrics of the results added so far in a run that
// began at began (OpenRun.Began), and the error of a result with no arrival.
func (a *OpenAccumulator) Close(began time.Time) (OpenMetrics, error) {
	b := a.base.Close()
	m := a.m
	m.Began = began
	if a.jobs != nil {
		m.JobTimes = a.jobs[:a.sent]
	}
	m.Requests, m.Successes = b.Requests, b.Successes
	m.StatusCodes, m.Errors, m.Workers = b.StatusCodes, b.Errors, b.Workers
	m.LatencyFromSend, m.QueueTime, m.JobTime = b.Latency, b.QueueTime, b.JobTime
	if m.Requests == 0 {
		return m, a.err
	}
	shift := a.anchor.Sub(began)
	m.Latency, m.Lag = a.fromSchedule.dist().shifted(shift), a.lag.dist().shifted(shift)
	m.Behind = m.Lag.Max > m.LagBound
	if !a.lastOK.IsZero() {
		m.Goodput = float64(m.Successes) / a.lastOK.Sub(began).Seconds()
	}
	if m.Capacity > 0 && m.S > 0 {
		// The offsets are known up front: the ideal costs the schedule's
		// size, not the results'.
		ideal, err := IdealDist(a.offsets[:a.sent], m.Capacity, m.S.D())
		if err != nil {
			return m, err
		}
		m.Ideal = ideal
		m.P50Ratio = float64(m.Latency.Median) / float64(ideal.Median)
		m.P99Ratio = float64(m.Latency.P99) / float64(ideal.P99)
	}
	return m, a.err
}
