package bench

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/flipbench/flipbench/contract"
	"github.com/flipbench/flipbench/loadtest"
)

// keepAliveLine is the one-line account of a keep-alive run in the bench log.
func keepAliveLine(mode string, m loadtest.KeepAliveMetrics) string {
	return fmt.Sprintf("%s clients=%d: %d answers in %s, %.2f answers/s, p50 %s, p99 %s, answers per client %s, fairness %.2f, %d starved",
		mode, m.Clients, m.Answers, m.Elapsed, m.Throughput, m.Latency.Median, m.Latency.P99, m.AnswerRange(), m.Fairness, m.Starved)
}

// memInterval is how often the memory guard samples a server's RSS: a Node
// job grows by about 1 GB in seconds, so 100 ms overshoots the budget by
// little.
const memInterval = 100 * time.Millisecond

// AutoTimeout is a client timeout for a burst of n: three times the ideal
// makespan plus a minute, so even the last request of a slow queue is
// measured rather than cut off.
func AutoTimeout(n, capacity int, s time.Duration) time.Duration {
	return 3*loadtest.IdealMakespan(n, capacity, s) + time.Minute
}

// warmUp sends n sequential POSTs to url and returns their latencies and
// the server's job times (the job-time header, when present); any answer but 200 is an
// error.
func warmUp(ctx context.Context, url string, n int, timeout time.Duration, onAnswer func()) (lat, jobs []time.Duration, err error) {
	if timeout == 0 {
		timeout = 5 * time.Minute
	}
	client := loadtest.NewClient(ctx, timeout)
	for i := range n {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, nil)
		if err != nil {
			return lat, jobs, err
		}
		start := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			return lat, jobs, fmt.Errorf("request %d: %w", i+1, err)
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, 4096))
		resp.Body.Close()
		d := time.Since(start)
		if err != nil {
			return lat, jobs, fmt.Errorf("request %d: %w", i+1, err)
		}
		if resp.StatusCode != http.StatusOK {
			return lat, jobs, fmt.Errorf("request %d: %s: %s", i+1, resp.Status, strings.TrimSpace(string(body)))
		}
		lat = append(lat, d)
		if j, ok := loadtest.HeaderDuration(resp.Header, contract.HeaderJobTime); ok {
			jobs = append(jobs, j)
		}
		onAnswer()
	}
	return lat, jobs, nil
}

func firstN(s []string, n int) []string {
	if len(s) <= n {
		return s
	}
	return append(slices.Clone(s[:n]), fmt.Sprintf("… %d more", len(s)-n))
}

// levelLine is the one-line account of a level in the bench log.
func levelLine(mode string, m loadtest.Metrics) string {
	line := fmt.Sprintf("%s n=%d: %d/%d ok, sent within %s, first %s, median %s, last %s, %.2f req/s",
		mode, m.Level, m.Successes, m.Requests, m.SendSpread, m.FirstAnswer, m.Latency.Median, m.Makespan, m.Throughput)
	if m.Efficiency > 0 {
		line += fmt.Sprintf(", efficiency %.0f%%", 100*m.Efficiency)
	}
	if len(m.Workers) > 1 {
		line += ", workers " + m.WorkerSplit()
	}
	return line
}
