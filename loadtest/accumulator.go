package loadtest

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/flipbench/flipbench/contract"
)

// maxErrorKinds bounds the distinct error texts Metrics.Errors counts (a
// reset names its ephemeral port, so each can be new); the rest are counted
// under OtherErrors.
const maxErrorKinds = 64

// OtherErrors is the Errors key of the errors past the first maxErrorKinds
// distinct texts.
const OtherErrors = "(other errors)"

// Accumulator computes an attack's Metrics one result at a time, as
// vegeta's Metrics does (Add per result, Close at the end), holding no
// result: its memory is bounded whatever the count (see Dist for the
// percentiles). Compute is an Accumulator over a slice. The zero value is
// not ready: use NewAccumulator.
type Accumulator struct {
	m                            Metrics
	lat, queue, job              distAcc
	start, lastSend, first, last time.Time
	over30, over60               int
}

// NewAccumulator returns an empty accumulator of metrics computed with p.
func NewAccumulator(p Params) *Accumulator {
	return &Accumulator{m: Metrics{
		StatusCodes: map[string]int{},
		Errors:      map[string]int{},
		Workers:     map[string]int{},
		Capacity:    p.Capacity,
		Timeout:     Duration(p.Timeout),
	}}
}

// Add counts r.
func (a *Accumulator) Add(r *vegeta.Result) {
	m := &a.m
	m.Requests++
	m.StatusCodes[strconv.Itoa(int(r.Code))]++
	ok := r.Code >= 200 && r.Code < 300 && r.Error == ""
	if ok {
		m.Successes++
	}
	if r.Error != "" {
		if _, seen := m.Errors[r.Error]; seen || len(m.Errors) < maxErrorKinds {
			m.Errors[r.Error]++
		} else {
			m.Errors[OtherErrors]++
		}
	}
	a.lat.add(r.Latency)
	if r.Latency > 30*time.Second {
		a.over30++
	}
	if r.Latency > 60*time.Second {
		a.over60++
	}
	if a.start.IsZero() || r.Timestamp.Before(a.start) {
		a.start = r.Timestamp
	}
	if r.Timestamp.After(a.lastSend) {
		a.lastSend = r.Timestamp
	}
	end := r.End()
	// A fast failure (a reset, a 503) is no answer to the question "how long
	// until the first job came back".
	if ok && (a.first.IsZero() || end.Before(a.first)) {
		a.first = end
	}
	if end.After(a.last) {
		a.last = end
	}

	h := http.Header(r.Headers)
	if d, ok := HeaderDuration(h, contract.HeaderQueueTime); ok {
		a.queue.add(d)
	}
	if d, ok := HeaderDuration(h, contract.HeaderJobTime); ok {
		a.job.add(d)
	}
	if pid := workerPID(h); pid != "" {
		m.Workers[pid]++
	}
}

// workerPID returns the worker-pid header of an answer ("" when none).
func workerPID(h http.Header) string {
	return strings.TrimSpace(h.Get(contract.HeaderWorkerPID))
}

// Close returns the metrics of the results added so far.
func (a *Accumulator) Close() Metrics {
	m := a.m
	if m.Requests == 0 {
		return m
	}
	m.Latency = a.lat.dist()
	m.QueueTime = a.queue.dist()
	m.JobTime = a.job.dist()
	m.SendSpread = Duration(a.lastSend.Sub(a.start))
	if !a.first.IsZero() {
		m.FirstAnswer = Duration(a.first.Sub(a.start))
	}
	m.Makespan = Duration(a.last.Sub(a.start))
	if m.Makespan > 0 {
		m.Throughput = float64(m.Successes) / m.Makespan.D().Seconds()
	}
	m.Over30s = float64(a.over30) / float64(m.Requests)
	m.Over60s = float64(a.over60) / float64(m.Requests)
	return m
}
