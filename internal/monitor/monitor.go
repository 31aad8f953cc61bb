// Package monitor exposes what flipbench processes count of their jobs: a
// Prometheus collector for one process (cmd/standard's /metrics) and the
// master's admin handler for a cluster (cmd/clustered -admin: /workers,
// /metrics with a worker label, /debug/pprof/). Collectors read their
// source at scrape time and are registered on a registry per process.
package monitor

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/pprof"
	"os"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/flipbench/flipbench/contract"
	"github.com/flipbench/flipbench/prefork/jobstats"
)

// Metric names. The job metrics are the same in one process and in a
// cluster, where they carry the labels worker and pid.
const (
	MetricJobsDone     = "flipbench_jobs_done_total"
	MetricJobsFailed   = "flipbench_jobs_failed_total"
	MetricJobsInFlight = "flipbench_jobs_in_flight"
	MetricJobsQueued   = "flipbench_jobs_queued"
	MetricWorkerRSS    = "flipbench_worker_rss_bytes"
	MetricRestarts     = "flipbench_worker_restarts_total"
	MetricWorkerUp     = "flipbench_worker_up"
)

// Label names of a cluster's series.
const (
	LabelWorker = "worker" // the worker index
	LabelPID    = "pid"    // the worker process
)

// jobDescs describe the four job metrics, with labels (or none).
type jobDescs struct{ done, failed, inFlight, queued *prometheus.Desc }

func newJobDescs(labels ...string) jobDescs {
	return jobDescs{
		done:     prometheus.NewDesc(MetricJobsDone, "Jobs that succeeded.", labels, nil),
		failed:   prometheus.NewDesc(MetricJobsFailed, "Jobs that failed.", labels, nil),
		inFlight: prometheus.NewDesc(MetricJobsInFlight, "Jobs running now.", labels, nil),
		queued:   prometheus.NewDesc(MetricJobsQueued, "Jobs waiting for a job slot.", labels, nil),
	}
}

func (d jobDescs) describe(ch chan<- *prometheus.Desc) {
	ch <- d.done
	ch <- d.failed
	ch <- d.inFlight
	ch <- d.queued
}

func (d jobDescs) collect(ch chan<- prometheus.Metric, s jobstats.Stats, labels ...string) {
	ch <- prometheus.MustNewConstMetric(d.done, prometheus.CounterValue, float64(s.Done), labels...)
	ch <- prometheus.MustNewConstMetric(d.failed, prometheus.CounterValue, float64(s.Failed), labels...)
	ch <- prometheus.MustNewConstMetric(d.inFlight, prometheus.GaugeValue, float64(s.InFlight), labels...)
	ch <- prometheus.MustNewConstMetric(d.queued, prometheus.GaugeValue, float64(s.Queued), labels...)
}

// StatsSource is what reports one process's job counts (a server.Server).
// It is declared here, where it is used, so that a single process's
// metrics do not link the cluster supervisor.
type StatsSource interface {
	Stats() jobstats.Stats
}

// jobsCollector is one process's job metrics.
type jobsCollector struct {
	src  StatsSource
	desc jobDescs
}

// NewJobsCollector collects src's Stats, read at each scrape.
func NewJobsCollector(src StatsSource) prometheus.Collector {
	return &jobsCollector{src: src, desc: newJobDescs()}
}

func (c *jobsCollector) Describe(ch chan<- *prometheus.Desc) { c.desc.describe(ch) }

func (c *jobsCollector) Collect(ch chan<- prometheus.Metric) { c.desc.collect(ch, c.src.Stats()) }

// ProcessRegistry is a registry for one serving process: its job metrics,
// the extra collectors given (its histograms) and Go's process and runtime
// collectors.
func ProcessRegistry(src StatsSource, extra ...prometheus.Collector) *prometheus.Registry {
	return Registry(append([]prometheus.Collector{NewJobsCollector(src)}, extra...)...)
}

// Registry is a registry of cs and Go's process and runtime collectors.
func Registry(cs ...prometheus.Collector) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewGoCollector(),
	)
	reg.MustRegister(cs...)
	return reg
}

// Handler serves reg in Prometheus text format.
func Handler(reg *prometheus.Registry) http.Handler {
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg})
}

// View is a cluster's current workers, as its master sees them.
type View func(ctx context.Context) ([]contract.WorkerStatus, error)

// scrapeTimeout bounds how long a scrape waits for the master's loop.
const scrapeTimeout = 5 * time.Second

// workersCollector is a cluster's per-worker metrics, from its View.
type workersCollector struct {
	view     View
	desc     jobDescs
	rss      *prometheus.Desc
	restarts *prometheus.Desc
	up       *prometheus.Desc
}

// NewWorkersCollector collects view's workers at each scrape. Per-process
// series carry worker and pid, since a rolling restart briefly has two
// processes at one index; restarts and up are per index.
func NewWorkersCollector(view View) prometheus.Collector {
	proc := []string{LabelWorker, LabelPID}
	slot := []string{LabelWorker}
	return &workersCollector{
		view:     view,
		desc:     newJobDescs(proc...),
		rss:      prometheus.NewDesc(MetricWorkerRSS, "Resident memory of the worker process.", proc, nil),
		restarts: prometheus.NewDesc(MetricRestarts, "Processes the worker index had before its current one.", slot, nil),
		up:       prometheus.NewDesc(MetricWorkerUp, "1 if a ready process serves the worker index.", slot, nil),
	}
}

func (c *workersCollector) Describe(ch chan<- *prometheus.Desc) {
	c.desc.describe(ch)
	ch <- c.rss
	ch <- c.restarts
	ch <- c.up
}

func (c *workersCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	ws, err := c.view(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.up, err)
		return
	}
	restarts := map[int]int{}
	up := map[int]bool{}
	for _, w := range ws {
		idx, pid := strconv.Itoa(w.Worker), strconv.Itoa(w.PID)
		c.desc.collect(ch, jobstats.Stats{Done: w.Done, Failed: w.Failed, InFlight: w.InFlight, Queued: w.Queued}, idx, pid)
		ch <- prometheus.MustNewConstMetric(c.rss, prometheus.GaugeValue, float64(w.RSSBytes), idx, pid)
		restarts[w.Worker] = max(restarts[w.Worker], w.Restarts)
		up[w.Worker] = up[w.Worker] || w.State == "ready"
	}
	for idx, n := range restarts {
		v := 0.0
		if up[idx] {
			v = 1
		}
		ch <- prometheus.MustNewConstMetric(c.restarts, prometheus.CounterValue, float64(n), strconv.Itoa(idx))
		ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, v, strconv.Itoa(idx))
	}
}

// Admin is the master's monitoring handler: GET /workers (a
// contract.Workers), GET /metrics (the workers' series, their histograms
// from totals, and the master's own process and runtime) and
// net/http/pprof on the master, each mounted on its own mux so nothing
// reaches http.DefaultServeMux.
func Admin(view View, totals Totals) http.Handler {
	reg := Registry(
		NewWorkersCollector(view),
		NewSeriesCollector(totals, MetricRequestDuration, MetricJobDuration, MetricQueueWait),
	)
	mux := http.NewServeMux()
	masterPID := os.Getpid()
	mux.HandleFunc("GET "+contract.PathWorkers, func(w http.ResponseWriter, r *http.Request) {
		ws, err := view(r.Context())
		if err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		if ws == nil {
			ws = []contract.WorkerStatus{}
		}
		_ = json.NewEncoder(w).Encode(contract.Workers{MasterPID: masterPID, Workers: ws}) // the client may be gone
	})
	mux.Handle("GET "+contract.PathMetrics, Handler(reg))
	mux.HandleFunc(contract.PathPprof, pprof.Index)
	mux.HandleFunc(contract.PathPprof+"cmdline", pprof.Cmdline)
	mux.HandleFunc(contract.PathPprof+"profile", pprof.Profile)
	mux.HandleFunc(contract.PathPprof+"symbol", pprof.Symbol)
	mux.HandleFunc(contract.PathPprof+"trace", pprof.Trace)
	return mux
}
