package queue

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/flipbench/flipbench/contract"
	"github.com/flipbench/flipbench/internal/monitor"
	"github.com/flipbench/flipbench/prefork/jobstats"
)

// frontMetrics are what a front sees of its jobs: the states its workers'
// events move them to. A job another front published is that front's.
type frontMetrics struct {
	transitions *prometheus.CounterVec
}

func newFrontMetrics() frontMetrics {
	m := frontMetrics{transitions: monitor.NewCounter(monitor.MetricTransitions)}
	for _, s := range []string{contract.JobQueued, contract.JobRunning, contract.JobDone, contract.JobFailed} {
		m.transitions.WithLabelValues(s) // every state has a series from the start
	}
	return m
}

func (m frontMetrics) entered(state string) { m.transitions.WithLabelValues(state).Inc() }

// Metrics is the front's job state transitions, to register on the
// front process's registry.
func (f *Front) Metrics() prometheus.Collector { return f.metrics.transitions }

// WorkerMetrics are a worker's histograms and counters: job time, queue
// wait, redeliveries and ack time. It is a prometheus.Collector and a
// prefork.SeriesReporter, so a local worker reports them to its front.
type WorkerMetrics struct {
	reg          *prometheus.Registry
	jobs         *prometheus.HistogramVec
	waits        *prometheus.HistogramVec
	acks         *prometheus.HistogramVec
	redeliveries *prometheus.CounterVec
}

// NewWorkerMetrics is a worker's metrics, all zero.
func NewWorkerMetrics() *WorkerMetrics {
	m := &WorkerMetrics{
		reg:          prometheus.NewRegistry(),
		jobs:         monitor.NewHistogram(monitor.MetricJobDuration),
		waits:        monitor.NewHistogram(monitor.MetricQueueWait),
		acks:         monitor.NewHistogram(monitor.MetricAckDuration),
		redeliveries: monitor.NewCounter(monitor.MetricRedeliveries),
	}
	m.redeliveries.WithLabelValues()
	m.reg.MustRegister(m.jobs, m.waits, m.acks, m.redeliveries)
	return m
}

// Describe is prometheus.Collector's.
func (m *WorkerMetrics) Describe(ch chan<- *prometheus.Desc) { m.reg.Describe(ch) }

// Collect is prometheus.Collector's.
func (m *WorkerMetrics) Collect(ch chan<- prometheus.Metric) { m.reg.Collect(ch) }

// Series is the metrics as a worker reports them to its master.
func (m *WorkerMetrics) Series() []jobstats.Series {
	s, _ := monitor.Snapshot(m.reg) // the registry's own collectors gather without error
	return s
}

// The recorders below take a nil *WorkerMetrics, which keeps nothing.

func (m *WorkerMetrics) job(d time.Duration) {
	if m != nil {
		m.jobs.WithLabelValues().Observe(d.Seconds())
	}
}

func (m *WorkerMetrics) wait(d time.Duration) {
	if m != nil {
		m.waits.WithLabelValues().Observe(max(d, 0).Seconds())
	}
}

func (m *WorkerMetrics) ack(d time.Duration) {
	if m != nil {
		m.acks.WithLabelValues().Observe(d.Seconds())
	}
}

func (m *WorkerMetrics) redelivered() {
	if m != nil {
		m.redeliveries.WithLabelValues().Inc()
	}
}
