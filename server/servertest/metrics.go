package servertest

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/flipbench/flipbench/internal/access"
	"github.com/flipbench/flipbench/internal/monitor"
)

// fakeMetrics is the fake's request-duration histogram on the real
// servers' name, labels and buckets; a fake cluster adds the worker label,
// as a real master does.
type fakeMetrics struct {
	reg      *prometheus.Registry
	requests *prometheus.HistogramVec
	cluster  bool
}

func newFakeMetrics(cluster bool) *fakeMetrics {
	labels := []string{monitor.LabelRoute, monitor.LabelCode}
	if cluster {
		labels = append(labels, monitor.LabelWorker)
	}
	m := &fakeMetrics{reg: prometheus.NewRegistry(), cluster: cluster,
		requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: monitor.MetricRequestDuration, Help: "Time from reading a request to its answer (fake).", Buckets: monitor.Buckets(),
		}, labels)}
	m.reg.MustRegister(m.requests)
	return m
}

// observe counts one answer of route; worker is the index of the made-up
// worker that answered it.
func (m *fakeMetrics) observe(route string, code, worker int, d time.Duration) {
	lv := []string{route, strconv.Itoa(code)}
	if m.cluster {
		lv = append(lv, strconv.Itoa(worker))
	}
	m.requests.WithLabelValues(lv...).Observe(d.Seconds())
}

func (m *fakeMetrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// serveAdmin serves the metrics on addr as a master's admin address does,
// behind the token in tokenFile when there is one, and logs the address
// as the master does. It returns the listener's closer.
func (m *fakeMetrics) serveAdmin(addr, tokenFile string, stderr io.Writer) (io.Closer, error) {
	h := http.NewServeMux()
	h.Handle("GET /metrics", m.handler())
	var handler http.Handler = h
	if tokenFile != "" {
		token, err := access.Secret(tokenFile, "")
		if err != nil {
			return nil, fmt.Errorf("admin: %w", err)
		}
		if handler, err = access.Bearer(strings.TrimSpace(token), h); err != nil {
			return nil, fmt.Errorf("admin: %w", err)
		}
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("admin: %w", err)
	}
	fmt.Fprintf(stderr, "time=%s level=INFO msg=\"admin serving\" admin_addr=%s token=%v\n",
		time.Now().Format(time.RFC3339), ln.Addr(), tokenFile != "")
	go func() { _ = http.Serve(ln, handler) }()
	return ln, nil
}
