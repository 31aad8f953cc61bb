package loadtest

import (
	"slices"
	"strconv"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// ClientStats is what one keep-alive client got.
type ClientStats struct {
	Client int `json:"client"`
	// Answers counts 2xx answers.
	Answers int `json:"answers"`
	// Errors counts requests that failed (non-2xx, connection errors),
	// Unfinished those the run's end cut short.
	Errors     int `json:"errors"`
	Unfinished int `json:"unfinished"`
	// Closes counts answers that ended their connection (Connection: close):
	// the client's next request went on a new one.
	Closes int `json:"closes"`
	// Latency is the latency of the client's answers.
	Latency Dist `json:"latency"`
}

// KeepAliveMetrics are what a closed-loop keep-alive run measured.
type KeepAliveMetrics struct {
	Clients int `json:"clients"`
	// Duration and PerClient are the load asked for (one is 0).
	Duration  Duration `json:"duration,omitempty"`
	PerClient int      `json:"requests_per_client,omitempty"`
	// Requests counts results, unfinished ones included.
	Requests   int            `json:"requests"`
	Answers    int            `json:"answers"`
	Errors     int            `json:"errors"`
	Unfinished int            `json:"unfinished"`
	Closes     int            `json:"closes"`
	StatusCode map[string]int `json:"status_codes"`
	// Elapsed is the time from the first send to the last result's end.
	Elapsed Duration `json:"elapsed"`
	// Throughput is answers per second of Elapsed.
	Throughput float64 `json:"throughput"`
	// Latency is the latency of every 2xx answer, from its send: the
	// requests a starved client never got answered are not in it, as in
	// autocannon's figures, which is why Starved stands beside it.
	Latency Dist `json:"latency"`
	// Fairness is the fewest answers any client got over the most any got:
	// 1 when every client was served alike, 0 when one was starved.
	Fairness float64 `json:"fairness"`
	// Starved counts clients that got no answer at all.
	Starved int `json:"starved"`
	// Workers counts answers by the worker-pid header.
	Workers map[string]int `json:"workers"`
	// PerClientStats holds each client's account, by client number.
	PerClientStats []ClientStats `json:"per_client"`
	// ConnErrors counts requests whose connection was refused or reset
	// (IsConnError); Reconnects the requests a client sent after one, each
	// after a backoff wait.
	ConnErrors int `json:"connection_errors,omitempty"`
	Reconnects int `json:"reconnects,omitempty"`
	// ServerPeakRSS is the largest summed resident memory of the server's
	// processes seen during the run (0 when not measured).
	ServerPeakRSS uint64 `json:"server_peak_rss_bytes,omitempty"`
	// Stopped says why the run ended before its end (StoppedReason), empty
	// when it ran to its end.
	Stopped string `json:"stopped,omitempty"`
}

// ComputeKeepAlive derives the metrics of the keep-alive run l from its
// results: per client (ResultClient says whose), and for the whole run. The
// results must be in send order (as KeepAlive and ReadResults return them).
func ComputeKeepAlive(rs vegeta.Results, l Closed) KeepAliveMetrics {
	a := NewKeepAliveAccumulator(l)
	for i := range rs {
		a.Add(&rs[i])
	}
	return a.Close()
}

// AnswerCounts returns each client's answers, by client number.
func (m KeepAliveMetrics) AnswerCounts() []int {
	cs := make([]int, len(m.PerClientStats))
	for i, s := range m.PerClientStats {
		cs[i] = s.Answers
	}
	return cs
}

// AnswerRange renders the fewest and most answers of a client as "3–9".
func (m KeepAliveMetrics) AnswerRange() string {
	cs := m.AnswerCounts()
	if len(cs) == 0 {
		return ""
	}
	return strconv.Itoa(slices.Min(cs)) + "–" + strconv.Itoa(slices.Max(cs))
}
