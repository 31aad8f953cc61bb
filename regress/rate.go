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
// send, over the ideal p99 of cfg.Cores slots for the step's exact
// arrivals. The step's rate is set by the cores and the round's S
// (ServedRun.RateCapacity), so a cluster short of workers does not set its
// own bar. The ideal's job time is the larger of S and the step's median
// job as the cluster ran it: on a shared machine whose neighbours take a
// core, S measured on one process seconds before does not hold for two
// workers, and an ideal of S then read a healthy cluster 5 to 20 times
// over it; the slower jobs queue in the ideal too. A step with any answer
// not 2xx, or cut short, is NaN (missing): a cluster that sheds or fails
// fast would otherwise look quick.
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
		ideal, ok := runfolder.StepIdeal(o, cfg.Cores, max(sum.RoundS(t.RoundOf()).D(), o.JobTime.Median.D()))
		if !ok || ideal.P99 <= 0 {
			return math.NaN()
		}
		return float64(o.Latency.P99) / float64(ideal.P99)
	}
	return math.NaN()
}
