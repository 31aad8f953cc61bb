package server

import (
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/flipbench/flipbench/contract"
	"github.com/flipbench/flipbench/internal/monitor"
	"github.com/flipbench/flipbench/prefork/jobstats"
)

// metrics are a server's histograms: its requests, and the jobs it runs
// itself (a queued front's jobs run in its workers, which count them). It
// is a prometheus.Collector.
type metrics struct {
	reg      *prometheus.Registry // these alone, for Series
	requests *prometheus.HistogramVec
	jobs     *prometheus.HistogramVec // no labels
	waits    *prometheus.HistogramVec // no labels
	routes   map[string]bool          // route patterns, the request label's values besides RouteOther
}

func newMetrics() *metrics {
	m := &metrics{
		reg:      prometheus.NewRegistry(),
		requests: monitor.NewHistogram(monitor.MetricRequestDuration),
		jobs:     monitor.NewHistogram(monitor.MetricJobDuration),
		waits:    monitor.NewHistogram(monitor.MetricQueueWait),
		routes:   map[string]bool{},
	}
	m.reg.MustRegister(m.requests, m.jobs, m.waits)
	return m
}

// start makes the series a scrape must see before the first request (an
// answered flip; the jobs', where they run here) exist at zero: a rate or
// increase needs a sample from before the load, and a series born with it
// has none.
func (m *metrics) start(jobsHere bool) {
	m.requests.WithLabelValues(contract.PathFlip, strconv.Itoa(http.StatusOK))
	if jobsHere {
		m.jobs.WithLabelValues()
		m.waits.WithLabelValues()
	}
}

func (m *metrics) Describe(ch chan<- *prometheus.Desc) {
	m.requests.Describe(ch)
	m.jobs.Describe(ch)
	m.waits.Describe(ch)
}

func (m *metrics) Collect(ch chan<- prometheus.Metric) {
	m.requests.Collect(ch)
	m.jobs.Collect(ch)
	m.waits.Collect(ch)
}

// Metrics is the server's histograms, to register on a process's
// registry: its requests, and the jobs' when they run in this process
// (elsewhere, their workers report them).
func (s *Server) Metrics() prometheus.Collector {
	if s.local == nil {
		return s.metrics.requests
	}
	return s.metrics
}

// Series is the server's histograms as a cluster worker reports them to
// its master (a prefork.SeriesReporter).
func (s *Server) Series() []jobstats.Series {
	out, err := monitor.Snapshot(s.metrics.reg)
	if err != nil {
		s.log.Warn("snapshot metrics", "err", err)
	}
	return out
}

// observe times every request from the start of the handler chain to its
// answer, by route pattern and status code.
func (s *Server) observe(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		code := c.Response().Status
		if err != nil && !c.Response().Committed {
			code = status(err) // the error handler writes it after the chain
		}
		route := c.Path()
		if !s.metrics.routes[route] {
			// echo names the nearest node of a path no route matches.
			route = monitor.RouteOther
		}
		s.metrics.requests.WithLabelValues(route, strconv.Itoa(code)).Observe(time.Since(start).Seconds())
		return err
	}
}
