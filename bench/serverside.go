package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/flipbench/flipbench/contract"
	"github.com/flipbench/flipbench/internal/monitor"
	"github.com/flipbench/flipbench/internal/promhist"
	"github.com/flipbench/flipbench/loadtest"
	"github.com/flipbench/flipbench/trial"
)

// pathMetrics is where every server with histograms serves them: standard,
// the queued front and Node on their own address, a cluster's master on
// its admin address.
const pathMetrics = "/metrics"

// settleTimeout bounds the wait for a scrape to count every answer a load
// got: a cluster's workers report to their master once a second.
const settleTimeout = 3 * time.Second

// settlePoll is the pause between two scrapes of that wait.
const settlePoll = 100 * time.Millisecond

// serverSide reads a trial's server-side request histogram of the flip
// route before and after each burst.
type serverSide struct {
	url    string // "" once the server is known to serve none
	token  string
	client *http.Client
	last   *promhist.Histogram // the latest settled scrape: the next burst's before
}

// newServerSide is the reader of t's histograms; token is a cluster's
// admin token ("" for any other server), whose histograms are on the admin
// address its master logged.
func newServerSide(t *trial.Trial, token string) *serverSide {
	s := &serverSide{client: &http.Client{Timeout: 5 * time.Second}, url: t.Server.URL(pathMetrics)}
	if token != "" {
		s.token = token
		s.url = ""
		if addr := adminAddr(t.Dir); addr != "" {
			s.url = "http://" + addr + pathMetrics
		} else {
			t.Logf("%s: no admin address in its log: no server-side latency", t.Server.Spec.Name)
		}
	}
	return s
}

// before returns the histogram before a burst: the last burst's after, or a
// scrape that counts at least the warm-up's answers. ok is false when the
// server has no histogram to read.
func (s *serverSide) before(ctx context.Context, warmups int) (promhist.Histogram, bool) {
	if s.last != nil {
		return *s.last, true
	}
	h, ok := s.settle(ctx, uint64(warmups))
	return h, ok
}

// after returns the server's distribution of the burst since before, once
// the server counted at least answered more requests (or settleTimeout
// passed); nil when the server has no histogram or it could not be read
// whole.
func (s *serverSide) after(ctx context.Context, t *trial.Trial, before promhist.Histogram, answered int) *loadtest.ServerSide {
	s.last = nil
	if s.url == "" || t.Server.Exited() {
		return nil
	}
	h, ok := s.settle(ctx, before.Count+uint64(answered))
	if !ok {
		return nil
	}
	s.last = &h
	d, err := h.Sub(before)
	if err != nil {
		t.Logf("%s: no server-side latency for this burst: %v", t.Server.Spec.Name, err)
		return nil
	}
	if d.Count == 0 {
		return nil
	}
	return &loadtest.ServerSide{
		Count: int(d.Count), P50: seconds(d.Quantile(0.5)), P99: seconds(d.Quantile(0.99)),
		Bounds: d.Bounds, Cumulative: d.Cumulative,
	}
}

// settle scrapes until the flip route's count reaches want, settleTimeout
// passes or ctx ends, and returns the last scrape. A server that answers
// the scrape with an error has no histogram: s reads it no more.
func (s *serverSide) settle(ctx context.Context, want uint64) (promhist.Histogram, bool) {
	if s.url == "" {
		return promhist.Histogram{}, false
	}
	ctx, cancel := context.WithTimeout(ctx, settleTimeout)
	defer cancel()
	for {
		h, err := s.scrape(ctx)
		if err != nil {
			if ctx.Err() == nil {
				s.url = ""
			}
			return promhist.Histogram{}, false
		}
		if h.Count >= want {
			return h, true
		}
		select {
		case <-ctx.Done():
			return h, true
		case <-time.After(settlePoll):
		}
	}
}

// scrape reads the flip route's request histogram, summed over workers and
// status codes; an empty one when the server has not counted a flip yet.
func (s *serverSide) scrape(ctx context.Context) (promhist.Histogram, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url, nil)
	if err != nil {
		return promhist.Histogram{}, fmt.Errorf("scrape: %w", err)
	}
	if s.token != "" {
		req.Header.Set("Authorization", "Bearer "+s.token)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return promhist.Histogram{}, fmt.Errorf("scrape: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return promhist.Histogram{}, fmt.Errorf("scrape %s: %w", s.url, err)
	}
	if resp.StatusCode != http.StatusOK {
		return promhist.Histogram{}, fmt.Errorf("scrape %s: %s", s.url, resp.Status)
	}
	h, _, err := promhist.Parse(bytes.NewReader(body), monitor.MetricRequestDuration,
		map[string]string{monitor.LabelRoute: contract.PathFlip})
	return h, err
}

// answeredCount is how many of a burst's requests the server answered:
// every result with a status code.
func answeredCount(m loadtest.Metrics) int {
	n := 0
	for code, c := range m.StatusCodes {
		if code != "0" {
			n += c
		}
	}
	return n
}

// seconds converts a quantile in seconds, 0 for NaN.
func seconds(v float64) loadtest.Duration {
	if v != v {
		return 0
	}
	return loadtest.Duration(time.Duration(v * float64(time.Second)))
}
