package monitor

import (
	"context"
	"fmt"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/flipbench/flipbench/prefork/jobstats"
)

// Latency and queue metric names: fixed, since dashboards and alert rules
// are written against them.
const (
	MetricRequestDuration = "flipbench_http_request_duration_seconds"
	MetricJobDuration     = "flipbench_job_duration_seconds"
	MetricQueueWait       = "flipbench_job_queue_wait_seconds"
	MetricTransitions     = "flipbench_queue_job_transitions_total"
	MetricRedeliveries    = "flipbench_queue_redeliveries_total"
	MetricAckDuration     = "flipbench_queue_ack_duration_seconds"
)

// Label names of the latency and queue series.
const (
	LabelRoute = "route" // the route pattern, e.g. /flip or /jobs/:id
	LabelCode  = "code"  // the answer's status code
	LabelState = "state" // the state a queued job entered
)

// RouteOther is the route label of a request no route matched: an unknown
// path must not make a series of its own.
const RouteOther = "other"

// Buckets are the upper bounds, in seconds, of every latency histogram:
// 5 ms doubling 19 times to about 1310 s, since a burst of 1000 on one core
// waits up to about 1000 s for the full photo.
func Buckets() []float64 { return prometheus.ExponentialBuckets(0.005, 2, 19) }

// spec is a series name a process may report: what a master needs to serve
// it again.
type spec struct {
	help    string
	labels  []string
	counter bool // else a histogram on Buckets
}

// specs are the series a worker reports to its master, by name.
func specs() map[string]spec {
	return map[string]spec{
		MetricRequestDuration: {help: "Time from the start of the server's handler chain to the answer, by route and status code.", labels: []string{LabelRoute, LabelCode}},
		MetricJobDuration:     {help: "Time a flip job ran in its job slot."},
		MetricQueueWait:       {help: "Time a job waited from its admission to its job slot."},
		MetricAckDuration:     {help: "Time from a queued job's end to its acknowledgement: its state, result and ack."},
		MetricTransitions:     {help: "Queued jobs that entered each state, as this front saw them.", labels: []string{LabelState}, counter: true},
		MetricRedeliveries:    {help: "Queued jobs delivered to a worker again after an earlier delivery.", counter: true},
	}
}

// NewHistogram is the histogram called name (a Metric constant), on
// Buckets, with its label names.
func NewHistogram(name string) *prometheus.HistogramVec {
	sp := specs()[name]
	return prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: name, Help: sp.help, Buckets: Buckets()}, sp.labels)
}

// NewCounter is the counter called name (a Metric constant), with its
// label names.
func NewCounter(name string) *prometheus.CounterVec {
	sp := specs()[name]
	return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: sp.help}, sp.labels)
}

// Snapshot is what g gathers of the named series, as a worker reports it
// to its master; other metrics are left out.
func Snapshot(g prometheus.Gatherer) ([]jobstats.Series, error) {
	fams, err := g.Gather()
	if err != nil {
		return nil, fmt.Errorf("monitor: gather: %w", err)
	}
	sps := specs()
	var out []jobstats.Series
	for _, f := range fams {
		sp, ok := sps[f.GetName()]
		if !ok {
			continue
		}
		for _, m := range f.GetMetric() {
			s := jobstats.Series{Name: f.GetName(), Labels: labelValues(m, sp.labels)}
			if h := m.GetHistogram(); h != nil && !sp.counter {
				s.Count, s.Sum = h.GetSampleCount(), h.GetSampleSum()
				for _, b := range h.GetBucket() {
					s.Buckets = append(s.Buckets, b.GetCumulativeCount())
				}
			} else if c := m.GetCounter(); c != nil && sp.counter {
				s.Sum = c.GetValue()
			} else {
				continue
			}
			out = append(out, s)
		}
	}
	return out, nil
}

// labelValues are m's values of names, in that order.
func labelValues(m *dto.Metric, names []string) []string {
	vals := make([]string, len(names))
	for i, n := range names {
		for _, l := range m.GetLabel() {
			if l.GetName() == n {
				vals[i] = l.GetValue()
			}
		}
	}
	return vals
}

// Totals is each worker index's series, cumulative over every process the
// index has had (prefork.Master.Totals).
type Totals func(ctx context.Context) (map[int][]jobstats.Series, error)

// seriesCollector serves a cluster's Totals with a worker label.
type seriesCollector struct {
	totals Totals
	specs  map[string]spec
	descs  map[string]*prometheus.Desc
}

// NewSeriesCollector collects the series called names (Metric constants)
// from totals at each scrape, each with the label worker. Only the names
// given are served: the process may serve the others itself, unlabelled.
func NewSeriesCollector(totals Totals, names ...string) prometheus.Collector {
	all := specs()
	c := &seriesCollector{totals: totals, specs: map[string]spec{}, descs: map[string]*prometheus.Desc{}}
	for _, name := range names {
		sp, ok := all[name]
		if !ok {
			panic("monitor: no series called " + name) // a programming error, found by any test
		}
		c.specs[name] = sp
		c.descs[name] = prometheus.NewDesc(name, sp.help, append(sp.labels[:len(sp.labels):len(sp.labels)], LabelWorker), nil)
	}
	return c
}

func (c *seriesCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs {
		ch <- d
	}
}

func (c *seriesCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	byIndex, err := c.totals(ctx)
	if err != nil {
		for _, d := range c.descs {
			ch <- prometheus.NewInvalidMetric(d, err)
			break // one fails the scrape
		}
		return
	}
	bounds := Buckets()
	for idx, series := range byIndex {
		for _, s := range series {
			sp, ok := c.specs[s.Name]
			if !ok || len(s.Labels) != len(sp.labels) {
				continue // another build's series
			}
			lv := append(s.Labels[:len(s.Labels):len(s.Labels)], strconv.Itoa(idx))
			if sp.counter {
				ch <- prometheus.MustNewConstMetric(c.descs[s.Name], prometheus.CounterValue, s.Sum, lv...)
				continue
			}
			if len(s.Buckets) != len(bounds) {
				continue
			}
			buckets := make(map[float64]uint64, len(bounds))
			for i, b := range bounds {
				buckets[b] = s.Buckets[i]
			}
			ch <- prometheus.MustNewConstHistogram(c.descs[s.Name], s.Count, s.Sum, buckets, lv...)
		}
	}
}
