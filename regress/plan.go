package regress

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// plan is what a gate run measures: the Go benchmarks, a served run's
// modes, burst sizes and keep-alive clients, and the split bursts. Each
// metric needs part of it; a run measures the union of what its metrics
// need, so a proof of one fault measures only what that fault must break.
type plan struct {
	jobBench    bool     // the job and floor benchmarks
	engineBench bool     // the libvips job against imaging's
	modes       []string // served modes, in the gate's order
	levels      []int    // burst sizes, ascending
	clients     bool     // the keep-alive clients
	split       bool     // the split bursts
	rate        bool     // the open-model step
}

// MetricNames are the metrics the gate knows, sorted.
func MetricNames() []string { return slices.Sorted(maps.Keys(defaultLimits())) }

// ParseMetrics reads a comma-separated list of metric names; every name
// must be one the gate knows.
func ParseMetrics(list string) ([]string, error) {
	var names []string
	for name := range strings.SplitSeq(list, ",") {
		name = strings.TrimSpace(name)
		if !slices.Contains(MetricNames(), name) {
			return nil, fmt.Errorf("unknown metric %q (known: %s)", name, strings.Join(MetricNames(), ", "))
		}
		if !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	return names, nil
}

// metrics are the metrics cfg measures: cfg.Only, or every one.
func (cfg Config) metrics() []string {
	if len(cfg.Only) > 0 {
		return cfg.Only
	}
	return MetricNames()
}

// plan is the union of what cfg's metrics need.
func (cfg Config) plan() plan {
	var p plan
	for _, name := range cfg.metrics() {
		n := cfg.need(name)
		p.jobBench = p.jobBench || n.jobBench
		p.engineBench = p.engineBench || n.engineBench
		p.clients = p.clients || n.clients
		p.split = p.split || n.split
		p.rate = p.rate || n.rate
		p.modes = append(p.modes, n.modes...)
		p.levels = append(p.levels, n.levels...)
	}
	order := []string{modeStandard, modeCluster, modeQueued}
	p.modes = slices.DeleteFunc(order, func(m string) bool { return !slices.Contains(p.modes, m) })
	slices.Sort(p.levels)
	p.levels = slices.Compact(p.levels)
	return p
}

// need is what measuring metric takes. A served metric of the cluster's
// makespan over the ideal needs standard beside it for the round's S; the
// keep-alive share needs a burst only because a served run fires at least
// one (the smallest).
func (cfg Config) need(metric string) plan {
	served := func(level int, modes ...string) plan { return plan{modes: modes, levels: []int{level}} }
	switch metric {
	case MetricJobBytes, MetricJobAllocs, MetricJobOverFloor:
		return plan{jobBench: true}
	case MetricVipsOverImaging:
		return plan{engineBench: true}
	case MetricStandardEff:
		return served(cfg.Burst, modeStandard)
	case MetricClusterSpeedup:
		return served(cfg.SpeedupBurst, modeStandard, modeCluster)
	case MetricClusterSmallBurst:
		return served(cfg.SmallBurst, modeStandard, modeCluster)
	case MetricQueuedOverhead:
		return served(cfg.SpeedupBurst, modeCluster, modeQueued)
	case MetricHTTPOverhead:
		return served(1, modeStandard)
	case MetricPeakRSSPerJobPeak:
		return served(cfg.RSSBurst, modeStandard)
	case MetricClusterKeepAlive:
		p := served(1, modeCluster)
		p.clients = true
		return p
	case MetricClusterEvenSplit:
		return plan{split: true}
	case MetricClusterRateP99:
		// No burst: the round's S comes from a start of standard alone.
		return plan{modes: []string{modeCluster}, rate: true}
	}
	return plan{}
}
