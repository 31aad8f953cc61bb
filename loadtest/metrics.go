package loadtest

import (
	"cmp"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Dist summarises a set of durations. Percentiles are nearest-rank: P90 is the
// smallest value with at least 90% of the values at or below it; an
// accumulator's Dist of more than 4096 values (exactSamples) estimates them
// with vegeta's t-digest instead, to stay bounded.
type Dist struct {
	Count  int      `json:"count"`
	Min    Duration `json:"min"`
	Median Duration `json:"median"`
	P90    Duration `json:"p90"`
	P99    Duration `json:"p99"`
	Max    Duration `json:"max"`
	Mean   Duration `json:"mean"`
}

// NewDist summarises ds (which it does not change).
func NewDist(ds []time.Duration) Dist {
	if len(ds) == 0 {
		return Dist{}
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	var sum float64
	for _, d := range s {
		sum += float64(d)
	}
	return Dist{
		Count:  len(s),
		Min:    Duration(s[0]),
		Median: Duration(Percentile(s, 0.50)),
		P90:    Duration(Percentile(s, 0.90)),
		P99:    Duration(Percentile(s, 0.99)),
		Max:    Duration(s[len(s)-1]),
		Mean:   Duration(time.Duration(sum / float64(len(s)))),
	}
}

// Percentile returns the nearest-rank q-quantile (0 < q <= 1) of sorted, a
// slice in ascending order; 0 for an empty slice.
func Percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	i = max(0, min(i, len(sorted)-1))
	return sorted[i]
}

// IdealMakespan is the makespan of a perfect server that runs capacity jobs
// of time s at once and keeps every slot busy: ceil(n / capacity) × s.
func IdealMakespan(n, capacity int, s time.Duration) time.Duration {
	capacity = max(capacity, 1)
	return time.Duration((n+capacity-1)/capacity) * s
}

// Params are what a level's metrics record beside the results: the
// server's capacity (jobs it runs at once) and the client timeout that was
// used. S is no part of them: figures counted in S (IdealMakespan,
// Efficiency) are derived where S is known, so a later S needs no rewrite.
type Params struct {
	Capacity int
	Timeout  time.Duration
}

// Metrics are what one burst (or sustained attack) measured.
type Metrics struct {
	// Level is the burst size asked for (0 for a sustained attack).
	Level int `json:"level"`
	// Requests is the number of results (N for a burst).
	Requests int `json:"n"`
	// Successes counts 2xx answers.
	Successes int `json:"successes"`
	// StatusCodes counts answers by status; "0" is a request that got no
	// answer (connection error or timeout).
	StatusCodes map[string]int `json:"status_codes"`
	// Errors counts results by error text (non-2xx statuses included).
	Errors map[string]int `json:"errors"`
	// Latency is vegeta's latency of each request: from the moment its worker
	// sent it to the end of the answer. In a burst every request is sent at
	// the same instant, so this is also the time since the burst began.
	Latency Dist `json:"latency"`
	// SendSpread is the time from the first send to the last: near zero for
	// a true burst, which is what makes latency-from-send equal
	// time-since-the-burst-began.
	SendSpread Duration `json:"send_spread"`
	// FirstAnswer is the time from the first send to the first answer.
	FirstAnswer Duration `json:"first_answer"`
	// Makespan is the time from the first send to the last answer.
	Makespan Duration `json:"makespan"`
	// Throughput is successes per second of makespan.
	Throughput float64 `json:"throughput"`
	// QueueTime and JobTime are the server's own account (the contract's
	// queue- and job-time headers) of the answers that carried them.
	QueueTime Dist `json:"queue_time"`
	JobTime   Dist `json:"job_time"`
	// Workers counts answers by the worker-pid header; answers without it are not
	// counted.
	Workers map[string]int `json:"workers"`
	// Capacity and Timeout are the Params the metrics were computed with.
	Capacity int      `json:"capacity"`
	Timeout  Duration `json:"timeout"`
	// Over30s and Over60s are the shares of requests slower than 30 s and
	// 60 s: what a client with such a timeout would have seen fail.
	Over30s float64 `json:"share_over_30s"`
	Over60s float64 `json:"share_over_60s"`
	// ServerPeakRSS is the largest summed resident memory of the server's
	// processes seen during the burst (sampled by bench every 100 ms; 0 when
	// not measured).
	ServerPeakRSS uint64 `json:"server_peak_rss_bytes,omitempty"`
	// ServerHWM is the summed VmHWM of the server's processes after the
	// burst: the kernel's exact peak since each process started.
	ServerHWM uint64 `json:"server_hwm_bytes,omitempty"`
	// Stopped says why the attack ended before its end (StoppedReason),
	// empty when it ran to its end.
	Stopped string `json:"stopped,omitempty"`
	// Server is the server's own latency histogram of the burst; nil for a
	// server without one (and in runs stored before it was read).
	Server *ServerSide `json:"server_side,omitempty"`
}

// Compute derives the metrics of one attack from its results.
func Compute(rs vegeta.Results, p Params) Metrics {
	a := NewAccumulator(p)
	for i := range rs {
		a.Add(&rs[i])
	}
	return a.Close()
}

// Ideal is a burst counted in a job time S: the makespan of a perfect
// server of the burst's capacity and its efficiency.
type Ideal struct {
	S        time.Duration
	Makespan time.Duration
	// Efficiency is Makespan / the burst's makespan (1 is perfect; 0 when
	// unknown).
	Efficiency float64
}

// IdealIn counts m in the job time s on capacity slots (m.Capacity when
// capacity is 0); the zero Ideal but S when either is unknown.
func (m Metrics) IdealIn(s time.Duration, capacity int) Ideal {
	id := Ideal{S: s}
	capacity = cmp.Or(capacity, m.Capacity)
	if capacity <= 0 || s <= 0 {
		return id
	}
	id.Makespan = IdealMakespan(m.Requests, capacity, s)
	if m.Makespan > 0 {
		id.Efficiency = float64(id.Makespan) / float64(m.Makespan)
	}
	return id
}

// headerDuration reads a Go duration string from header key.
func HeaderDuration(h http.Header, key string) (time.Duration, bool) {
	v := strings.TrimSpace(h.Get(key))
	if v == "" {
		return 0, false
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, false
	}
	return d, true
}

// WorkerCounts returns the per-worker answer counts in descending order.
func (m Metrics) WorkerCounts() []int {
	cs := make([]int, 0, len(m.Workers))
	for _, c := range m.Workers {
		cs = append(cs, c)
	}
	slices.Sort(cs)
	slices.Reverse(cs)
	return cs
}

// WorkerSplit renders the per-worker answer counts as "6/4", largest first.
func (m Metrics) WorkerSplit() string {
	cs := m.WorkerCounts()
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = strconv.Itoa(c)
	}
	return strings.Join(parts, "/")
}

// FormatCounts renders a count map as "200:6 503:2", keys in order.
func FormatCounts(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s:%d", k, m[k])
	}
	return strings.Join(parts, " ")
}
