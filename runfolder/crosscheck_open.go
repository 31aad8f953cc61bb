package runfolder

import "github.com/flipbench/flipbench/loadtest"

// CrossArrivals is the article's artillery.yaml shape as a cross-check sent
// it to every mode: Rate arrivals per second for Duration, one POST each on
// a fresh connection, each waiting at most Timeout.
type CrossArrivals struct {
	Rate     float64           `json:"rate"`
	Duration loadtest.Duration `json:"duration"`
	Timeout  loadtest.Duration `json:"timeout"`
	// S is the job time measured on BaselineMode before the modes ran (0:
	// not measured); RateFrom says how Rate was chosen.
	S        loadtest.Duration `json:"s,omitempty"`
	RateFrom string            `json:"rate_from"`
}

// OpenFigures are what the project's open model saw of one mode at a
// cross-check's arrivals, counted as Artillery counts: Throughput is 2xx
// answers per second of the phase, P50 and P99 run from each send to its
// answer over the 2xx answers alone.
type OpenFigures struct {
	Requests   int            `json:"requests"`
	Answers    int            `json:"answers"` // 2xx answers
	Throughput float64        `json:"throughput"`
	P50        float64        `json:"p50_ms"`
	P99        float64        `json:"p99_ms"`
	Non2xx     int            `json:"non_2xx"`
	Unanswered int            `json:"unanswered"` // no answer: timeouts, refusals
	Errors     map[string]int `json:"errors,omitempty"`
	// P99Scheduled is the project's own p99, from each scheduled send over
	// every request; IdealP99 is an ideal FIFO server's at the same
	// arrivals (0 when S was not measured); Behind says the driver could not
	// keep the schedule.
	P99Scheduled float64 `json:"p99_scheduled_ms"`
	IdealP99     float64 `json:"ideal_p99_ms,omitempty"`
	Behind       bool    `json:"behind_schedule,omitempty"`
	// Stopped says why the run ended early ("memory": the guard killed the
	// server).
	Stopped string `json:"stopped,omitempty"`
}
