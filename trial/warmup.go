package trial

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/flipbench/flipbench/contract"
	"github.com/flipbench/flipbench/loadtest"
)

// warmUp sends n sequential requests of tgt and returns their latencies and
// the server's job times (the job-time header, when present); any answer but 2xx is an
// error.
func warmUp(ctx context.Context, tgt vegeta.Target, n int, timeout time.Duration, onAnswer func()) (lat, jobs []time.Duration, err error) {
	client := loadtest.NewClient(ctx, timeout)
	for i := range n {
		req, err := newRequest(ctx, tgt)
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
		if resp.StatusCode < 200 || resp.StatusCode > 299 {
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

// AutoTimeout is a client timeout for a burst of n: three times the ideal
// makespan plus a minute, so even the last request of a slow queue is
// measured rather than cut off.
func AutoTimeout(n, capacity int, s time.Duration) time.Duration {
	return 3*loadtest.IdealMakespan(n, capacity, s) + time.Minute
}
