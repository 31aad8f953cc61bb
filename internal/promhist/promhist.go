// Package promhist reads a Prometheus histogram from a scrape, takes the
// difference of two scrapes and estimates its quantiles the way
// Prometheus's histogram_quantile does.
package promhist

import (
	"fmt"
	"io"
	"math"
	"slices"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Histogram is one histogram's cumulative bucket counts: Cumulative[i]
// observations were at most Bounds[i] seconds, Count in all (the +Inf
// bucket).
type Histogram struct {
	Bounds     []float64
	Cumulative []uint64
	Count      uint64
}

// Parse reads the Prometheus text format from r and sums every series of
// the histogram called name whose labels include match (sum by (le), as a
// query over workers and status codes would). found is false when no
// series matched.
func Parse(r io.Reader, name string, match map[string]string) (h Histogram, found bool, err error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(r)
	if err != nil {
		return Histogram{}, false, fmt.Errorf("promhist: %w", err)
	}
	f, ok := fams[name]
	if !ok || f.GetType() != dto.MetricType_HISTOGRAM {
		return Histogram{}, false, nil
	}
	byLe := map[float64]uint64{}
	for _, m := range f.GetMetric() {
		if !HasLabels(m, match) || m.GetHistogram() == nil {
			continue
		}
		found = true
		hm := m.GetHistogram()
		h.Count += hm.GetSampleCount()
		for _, b := range hm.GetBucket() {
			if !math.IsInf(b.GetUpperBound(), +1) {
				byLe[b.GetUpperBound()] += b.GetCumulativeCount()
			}
		}
	}
	for le := range byLe {
		h.Bounds = append(h.Bounds, le)
	}
	slices.Sort(h.Bounds)
	for _, le := range h.Bounds {
		h.Cumulative = append(h.Cumulative, byLe[le])
	}
	return h, found, nil
}

// HasLabels reports whether m has every label of match, by name and value.
func HasLabels(m *dto.Metric, match map[string]string) bool {
	n := 0
	for _, l := range m.GetLabel() {
		if v, ok := match[l.GetName()]; ok && v == l.GetValue() {
			n++
		}
	}
	return n == len(match)
}

// Sub is h minus before: what was observed between the two scrapes. A
// histogram with no series yet (the zero Histogram) counts as empty. It
// fails when the buckets differ or a count went down (the process
// restarted and its counts began again).
func (h Histogram) Sub(before Histogram) (Histogram, error) {
	if before.Count == 0 && len(before.Bounds) == 0 {
		return h, nil
	}
	if !slices.Equal(h.Bounds, before.Bounds) {
		return Histogram{}, fmt.Errorf("promhist: the buckets changed between two scrapes")
	}
	if h.Count < before.Count {
		return Histogram{}, fmt.Errorf("promhist: the count went down from %d to %d (a counter reset)", before.Count, h.Count)
	}
	out := Histogram{Bounds: slices.Clone(h.Bounds), Count: h.Count - before.Count, Cumulative: make([]uint64, len(h.Bounds))}
	for i := range h.Cumulative {
		if h.Cumulative[i] < before.Cumulative[i] {
			return Histogram{}, fmt.Errorf("promhist: bucket le=%g went down (a counter reset)", h.Bounds[i])
		}
		out.Cumulative[i] = h.Cumulative[i] - before.Cumulative[i]
	}
	return out, nil
}

// Quantile estimates the q-quantile (0 <= q <= 1) in seconds as
// Prometheus's histogram_quantile does: it finds the bucket holding rank
// q×Count and interpolates linearly within it (from 0 for the first
// bucket); a rank in the +Inf bucket answers the largest finite bound. NaN
// when the histogram is empty.
func (h Histogram) Quantile(q float64) float64 {
	if h.Count == 0 || len(h.Bounds) == 0 || q < 0 || q > 1 {
		return math.NaN()
	}
	rank := q * float64(h.Count)
	i, _ := slices.BinarySearchFunc(h.Cumulative, rank, func(c uint64, r float64) int {
		if float64(c) < r {
			return -1
		}
		return 1
	})
	if i == len(h.Bounds) {
		return h.Bounds[len(h.Bounds)-1]
	}
	lower, below := 0.0, 0.0
	if i > 0 {
		lower, below = h.Bounds[i-1], float64(h.Cumulative[i-1])
	}
	in := float64(h.Cumulative[i]) - below
	if in == 0 {
		return h.Bounds[i]
	}
	return lower + (h.Bounds[i]-lower)*(rank-below)/in
}

// BucketOf is the index of the bucket d seconds falls in (the first bound
// at or above it), len(Bounds) for the +Inf bucket.
func (h Histogram) BucketOf(d float64) int {
	i, _ := slices.BinarySearch(h.Bounds, d)
	return i
}
