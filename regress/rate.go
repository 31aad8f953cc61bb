package regress

import (
	"cmp"
	"math"

	"github.com/flipbench/flipbench/loadtest"
	"github.com/flipbench/flipbench/runfolder"
)

// MetricClusterRateP99 is the open-model metric: the load-aware cluster's
// p99 at Config.RateLoad × the cores' capacity over an ideal FIFO server's.
const MetricClusterRateP99 = "cluster_rate_p99_over_ideal"

// DefaultRateLoad is the open-model step's fraction of capacity: near the
// knee, yet below it, so a healthy cluster holds it with little queue and
// a cluster short of workers (past its own capacity) does not.
const DefaultRateLoad = 0.8

// rateLoad is cfg.RateLoad, DefaultRateLoad when 0.
func (cfg Config) rateLoad() float64 { return cmp.Or(cfg.RateLoad, DefaultRateLoad) }

// ratePlan is the served run's open-model step: RateLoad × capacity, at
// Artillery's constant arrivals. The SLO is bench's default; the gate
// does not read it, but a plan must have one.
func (cfg Config) ratePlan() *runfolder.RatePlan {
	return &runfolder.RatePlan{Loads: []float64{cfg.rateLoad()}, ArrivalsPerStep: cfg.RateArrivals,
		Arrivals: loadtest.ArrivalsConstant, SLO: runfolder.SLO{TimesS: 5}}
}

// rateMetric is the cluster's p99, counted from each request's scheduled
// send, over the p99 of an ideal FIFO of cfg.Cores slots given the step's
// exact arrivals and each job as long as the cluster said it took
// (runfolder.StepJobIdeal). The step's rate is set by the cores and the
// round's S (ServedRun.RateCapacity), and the ideal's slots by the cores,
// so a cluster short of workers does not set its own bar. Counting each
// job as it ran, not S, is what makes the ratio hold on a shared machine:
// a neighbour that takes a core slows the jobs, and the ideal with them,
// so what is left is the time requests waited while a core stood idle.
// An ideal of one S read a healthy cluster 1.1 to 5.6 times over it in
// runs where this one read 0.99 to 1.10. A step with any answer not 2xx,
// or cut short, is NaN (missing): a cluster that sheds or fails fast
// would otherwise look quick.
func rateMetric(sum *runfolder.Summary, cfg Config) float64 {
	clu, _ := sum.Mode(modeCluster)
	for _, t := range clu.Trials() {
		st, ok := t.Rate(cfg.rateLoad())
		if !ok {
			continue
		}
		o := st.Metrics
		if o.Stopped != "" || o.Requests != o.Scheduled || o.Successes != o.Requests {
			return math.NaN()
		}
		ideal, ok := runfolder.StepJobIdeal(o, cfg.Cores)
		if !ok || ideal.P99 <= 0 {
			return math.NaN()
		}
		return float64(o.Latency.P99) / float64(ideal.P99)
	}
	return math.NaN()
}
