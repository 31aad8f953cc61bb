package loadtest

import (
	"fmt"
	"time"

	"github.com/flipbench/flipbench/queueing"
)

// OpenParams are what an open-model run's metrics need beyond its results:
// the server's capacity (jobs at once) and job time S, for the ideal (0:
// not computed), the client timeout used, and the lag bound (0: the
// schedule's LagBound).
type OpenParams struct {
	Capacity int
	S        time.Duration
	Timeout  time.Duration
	LagBound time.Duration
}

// OpenMetrics are what one open-model run (a step of a sweep) measured.
type OpenMetrics struct {
	// Schedule is the load asked for (its offsets are not stored: its
	// fields make them again).
	Schedule  Schedule `json:"schedule"`
	KeepAlive bool     `json:"keep_alive"`
	// Scheduled counts the schedule's arrivals, Requests the results (fewer
	// only when the run was stopped).
	Scheduled int `json:"scheduled"`
	Requests  int `json:"n"`
	// OfferedRate is the schedule's arrivals per second.
	OfferedRate float64 `json:"offered_rate"`
	// Successes counts 2xx answers; Goodput is successes per second from
	// the start to the last 2xx answer.
	Successes int     `json:"successes"`
	Goodput   float64 `json:"goodput"`
	// Shed counts 503 answers (the server's -max-queue turning excess away),
	// Failed every other request that got no 2xx (other statuses,
	// connection errors, timeouts).
	Shed   int `json:"shed"`
	Failed int `json:"failed"`
	// StatusCodes counts answers by status ("0": no answer); Errors counts
	// results by error text.
	StatusCodes map[string]int `json:"status_codes"`
	Errors      map[string]int `json:"errors"`
	// Latency runs from each request's scheduled send time to the end of its
	// answer, so a driver that sent late cannot hide a wait (coordinated
	// omission); LatencyFromSend is vegeta's, from the actual send. Both
	// cover every request, failed ones included.
	Latency         Dist `json:"latency"`
	LatencyFromSend Dist `json:"latency_from_send"`
	// Lag is the delay of each send after its scheduled time; Behind is
	// Lag.Max > LagBound: the server then saw arrivals other than the
	// schedule's, which the ideal is computed for.
	Lag      Dist     `json:"lag"`
	LagBound Duration `json:"lag_bound"`
	Behind   bool     `json:"behind_schedule"`
	// QueueTime is the server's own account of each answer's wait (the
	// contract's queue-time header), JobTime of its job (its job-time
	// header): the job as it ran under this load, which the gate's ideal
	// counts in.
	QueueTime Dist           `json:"queue_time"`
	JobTime   Dist           `json:"job_time"`
	Workers   map[string]int `json:"workers"`
	// JobTimes is each arrival's job time by its index in the schedule, as
	// its answer's job-time header said (0: no header, as for a failure or
	// an arrival not sent): what JobIdeal serves. Nil when no answer had one.
	JobTimes []Duration `json:"job_times,omitempty"`
	// Capacity, S and Timeout are the OpenParams used.
	Capacity int      `json:"capacity"`
	S        Duration `json:"s"`
	Timeout  Duration `json:"timeout"`
	// Ideal is the latency an ideal FIFO server (Capacity slots, jobs of
	// S) gives the same arrivals; P50Ratio and P99Ratio are the
	// measured p50 and p99 over the ideal's (1 is the limit; 0: unknown).
	// A failed request counts its time to failure (a timeout: the client's
	// timeout), so with failures a ratio is a floor.
	Ideal    Dist    `json:"ideal"`
	P50Ratio float64 `json:"p50_over_ideal"`
	P99Ratio float64 `json:"p99_over_ideal"`
	// Began is when the run started: arrival i was due at Began + its
	// offset, so the metrics can be made again from the .bin.
	Began time.Time `json:"began"`
	// Stopped says why the attack ended before its end (StoppedReason),
	// empty when it ran to its end.
	Stopped string `json:"stopped,omitempty"`
}

// IdealDist is the latency distribution of an ideal FIFO server with
// capacity slots and job time s for arrivals (offsets, ascending), in the
// same quantiles as every measured latency.
func IdealDist(arrivals []time.Duration, capacity int, s time.Duration) (Dist, error) {
	lat, err := queueing.FIFO{Slots: capacity, Job: s}.Latencies(arrivals)
	if err != nil {
		return Dist{}, fmt.Errorf("ideal of %d arrivals: %w", len(arrivals), err)
	}
	return NewDist(lat), nil
}

// ComputeOpen derives the metrics of an open-model run from its results
// (an OpenAccumulator over them).
func ComputeOpen(run OpenRun, p OpenParams) (OpenMetrics, error) {
	a := NewOpenAccumulator(Open{Schedule: run.Schedule, KeepAlive: run.KeepAlive}, p)
	for i := range run.Results {
		a.Add(&run.Results[i])
	}
	return a.Close(run.Began)
}

// WriteOpen writes an open-model run's results and reports into dir as a
// level's files are written; its .metrics.json holds m.
func WriteOpen(dir, name string, run OpenRun, m OpenMetrics) error {
	return writeRun(dir, name, run.Results, m)
}
