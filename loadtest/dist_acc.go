package loadtest

import (
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// exactSamples is how many values a distribution accumulator keeps for exact
// nearest-rank percentiles (32 KiB): every burst and every keep-alive client
// of a bench fits. Past it, percentiles come from vegeta's own t-digest
// estimator (compression 100, a few KiB whatever the count), so a long run's
// memory stays bounded; count, min, max and mean stay exact.
const exactSamples = 4096

// distAcc accumulates durations into a Dist.
type distAcc struct {
	exact    []time.Duration
	est      *vegeta.LatencyMetrics // nil while exact holds every value
	n        int
	min, max time.Duration
	sum      float64
}

func (a *distAcc) add(d time.Duration) {
	if a.n == 0 {
		a.min, a.max = d, d
	}
	// Values may be negative: an open run's are counted from an anchor.
	a.min, a.max = min(a.min, d), max(a.max, d)
	a.n++
	a.sum += float64(d)
	if a.est != nil {
		a.est.Add(d)
		return
	}
	if len(a.exact) < exactSamples {
		a.exact = append(a.exact, d)
		return
	}
	a.est = &vegeta.LatencyMetrics{}
	for _, e := range a.exact {
		a.est.Add(e)
	}
	a.est.Add(d)
	a.exact = nil
}

// dist returns the distribution of the values added so far.
func (a *distAcc) dist() Dist {
	if a.est == nil {
		return NewDist(a.exact)
	}
	return Dist{
		Count:  a.n,
		Min:    Duration(a.min),
		Median: Duration(a.est.Quantile(0.50)),
		P90:    Duration(a.est.Quantile(0.90)),
		P99:    Duration(a.est.Quantile(0.99)),
		Max:    Duration(a.max),
		Mean:   Duration(time.Duration(a.sum / float64(a.n))),
	}
}

// shifted returns d with every value moved by by: what d would be had each
// value been counted from an instant by earlier.
func (d Dist) shifted(by time.Duration) Dist {
	if d.Count == 0 {
		return d
	}
	b := Duration(by)
	d.Min, d.Median, d.P90, d.P99, d.Max, d.Mean = d.Min+b, d.Median+b, d.P90+b, d.P99+b, d.Max+b, d.Mean+b
	return d
}
