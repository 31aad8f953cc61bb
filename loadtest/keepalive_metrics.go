package loadtest

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/flipbench/flipbench/contract"
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
	// ServerPeakRSS is the largest summed resident memory of the server's
	// processes seen during the run (0 when not measured).
	ServerPeakRSS uint64 `json:"server_peak_rss_bytes,omitempty"`
}

// ComputeKeepAlive derives the metrics of the keep-alive run l from its
// results: per client (ResultClient says whose), and for the whole run.
func ComputeKeepAlive(rs vegeta.Results, l Closed) KeepAliveMetrics {
	m := KeepAliveMetrics{
		Clients: l.Clients, Duration: Duration(l.Duration), PerClient: l.Requests,
		Requests: len(rs), StatusCode: map[string]int{}, Workers: map[string]int{},
	}
	stats := make([]ClientStats, l.Clients)
	lats := make([][]time.Duration, l.Clients)
	for i := range stats {
		stats[i].Client = i
	}
	var (
		all         []time.Duration
		first, last time.Time
	)
	for i := range rs {
		r := &rs[i]
		c := ResultClient(r)
		if c >= len(stats) { // a results file of more clients than asked
			stats = append(stats, make([]ClientStats, c+1-len(stats))...)
			lats = append(lats, make([][]time.Duration, c+1-len(lats))...)
			for k := range stats {
				stats[k].Client = k
			}
		}
		s := &stats[c]
		m.StatusCode[strconv.Itoa(int(r.Code))]++
		switch {
		case r.Error == ErrUnfinished:
			s.Unfinished++
		case r.Error != "" || r.Code < 200 || r.Code >= 300:
			s.Errors++
		default:
			s.Answers++
			lats[c] = append(lats[c], r.Latency)
			all = append(all, r.Latency)
		}
		h := http.Header(r.Headers)
		if strings.EqualFold(h.Get("Connection"), "close") {
			s.Closes++
		}
		if pid := strings.TrimSpace(h.Get(contract.HeaderWorkerPID)); pid != "" && r.Error == "" {
			m.Workers[pid]++
		}
		if first.IsZero() || r.Timestamp.Before(first) {
			first = r.Timestamp
		}
		if end := r.End(); end.After(last) {
			last = end
		}
	}
	m.Clients = len(stats)
	fewest, most := -1, 0
	for i := range stats {
		s := &stats[i]
		s.Latency = NewDist(lats[i])
		m.Answers += s.Answers
		m.Errors += s.Errors
		m.Unfinished += s.Unfinished
		m.Closes += s.Closes
		if s.Answers == 0 {
			m.Starved++
		}
		if fewest < 0 || s.Answers < fewest {
			fewest = s.Answers
		}
		most = max(most, s.Answers)
	}
	m.PerClientStats = stats
	m.Latency = NewDist(all)
	if most > 0 {
		m.Fairness = float64(fewest) / float64(most)
	}
	if !first.IsZero() {
		m.Elapsed = Duration(last.Sub(first))
	}
	if m.Elapsed > 0 {
		m.Throughput = float64(m.Answers) / m.Elapsed.D().Seconds()
	}
	return m
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
