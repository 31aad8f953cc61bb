package loadtest

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// KeepAliveAccumulator computes a keep-alive run's KeepAliveMetrics one
// result at a time (Add per result, Close at the end), holding no result:
// its memory grows with the clients, not the requests. ComputeKeepAlive is
// one over a slice. Use NewKeepAliveAccumulator.
type KeepAliveAccumulator struct {
	m           KeepAliveMetrics
	stats       []ClientStats
	lats        []distAcc
	failing     []bool // the client's last result was a connection error
	all         distAcc
	first, last time.Time
}

// NewKeepAliveAccumulator returns an empty accumulator of the run l.
func NewKeepAliveAccumulator(l Closed) *KeepAliveAccumulator {
	a := &KeepAliveAccumulator{m: KeepAliveMetrics{
		Clients: l.Clients, Duration: Duration(l.Duration), PerClient: l.Requests,
		StatusCode: map[string]int{}, Workers: map[string]int{},
	}}
	a.grow(l.Clients)
	return a
}

// grow makes room for n clients.
func (a *KeepAliveAccumulator) grow(n int) {
	for k := len(a.stats); k < n; k++ {
		a.stats = append(a.stats, ClientStats{Client: k})
		a.lats = append(a.lats, distAcc{})
		a.failing = append(a.failing, false)
	}
}

// Add counts r; ResultClient says whose it is. A client's results must come
// in the order it sent them (a keep-alive run hands them over so).
func (a *KeepAliveAccumulator) Add(r *vegeta.Result) {
	c := ResultClient(r)
	a.grow(c + 1) // a results file of more clients than asked
	s := &a.stats[c]
	a.m.Requests++
	a.m.StatusCode[strconv.Itoa(int(r.Code))]++
	if a.failing[c] {
		a.m.Reconnects++
	}
	a.failing[c] = r.Code == 0 && IsConnError(r.Error)
	if a.failing[c] {
		a.m.ConnErrors++
	}
	switch {
	case r.Error == ErrUnfinished:
		s.Unfinished++
	case r.Error != "" || r.Code < 200 || r.Code >= 300:
		s.Errors++
	default:
		s.Answers++
		a.lats[c].add(r.Latency)
		a.all.add(r.Latency)
	}
	h := http.Header(r.Headers)
	if strings.EqualFold(h.Get("Connection"), "close") {
		s.Closes++
	}
	if pid := workerPID(h); pid != "" && r.Error == "" {
		a.m.Workers[pid]++
	}
	if a.first.IsZero() || r.Timestamp.Before(a.first) {
		a.first = r.Timestamp
	}
	if end := r.End(); end.After(a.last) {
		a.last = end
	}
}

// Close returns the metrics of the results added so far.
func (a *KeepAliveAccumulator) Close() KeepAliveMetrics {
	m := a.m
	stats := make([]ClientStats, len(a.stats))
	copy(stats, a.stats)
	m.Clients = len(stats)
	fewest, most := -1, 0
	for i := range stats {
		s := &stats[i]
		s.Latency = a.lats[i].dist()
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
	m.Latency = a.all.dist()
	if most > 0 {
		m.Fairness = float64(fewest) / float64(most)
	}
	if !a.first.IsZero() {
		m.Elapsed = Duration(a.last.Sub(a.first))
	}
	if m.Elapsed > 0 {
		m.Throughput = float64(m.Answers) / m.Elapsed.D().Seconds()
	}
	return m
}
