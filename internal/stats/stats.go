// Package stats summarizes the samples of repeated trials the way
// benchstat does (golang.org/x/perf/benchmath, assuming nothing about their
// distribution): a median with a 95 % order-statistic confidence interval,
// and the Mann-Whitney U test for a difference between two samples.
package stats

import (
	"math"
	"slices"

	"golang.org/x/perf/benchmath"
)

// Confidence is the level of every interval; Alpha the significance level
// of every comparison.
const (
	Confidence = 0.95
	Alpha      = 0.05
)

// NoisyShare is the relative half-width of an interval above which a
// figure is called noisy.
const NoisyShare = 0.05

// Interval is a median and the interval around it: the 95 % confidence
// interval of the median when the sample is large enough for one (6 or
// more: with 5 the min and max cover the median with only 94 %), else the
// sample's min and max (MinMax).
type Interval struct {
	Median float64 `json:"median"`
	Lo     float64 `json:"lo"`
	Hi     float64 `json:"hi"`
	N      int     `json:"n"`
	MinMax bool    `json:"min_max,omitempty"`
}

// Summarize returns the median and interval of values; zero for none.
func Summarize(values []float64) Interval {
	vs := finite(values)
	if len(vs) == 0 {
		return Interval{}
	}
	s := benchmath.AssumeNothing.Summary(benchmath.NewSample(vs, &benchmath.DefaultThresholds), Confidence)
	iv := Interval{Median: s.Center, Lo: s.Lo, Hi: s.Hi, N: len(vs)}
	if math.IsInf(s.Lo, 0) || math.IsInf(s.Hi, 0) || math.IsNaN(s.Lo) || math.IsNaN(s.Hi) {
		iv.Lo, iv.Hi, iv.MinMax = slices.Min(vs), slices.Max(vs), true
	}
	return iv
}

// HalfWidth is the interval's larger half over its median (0 for a median
// of 0).
func (iv Interval) HalfWidth() float64 {
	if iv.Median == 0 {
		return 0
	}
	return max(iv.Hi-iv.Median, iv.Median-iv.Lo) / math.Abs(iv.Median)
}

// Noisy reports whether the interval's half-width passes NoisyShare of its
// median: a figure a reader should not lean on.
func (iv Interval) Noisy() bool { return iv.N > 1 && iv.HalfWidth() > NoisyShare }

// Overlaps reports whether two intervals share a point.
func (iv Interval) Overlaps(o Interval) bool { return iv.Lo <= o.Hi && o.Lo <= iv.Hi }

// Scale returns the interval with every figure multiplied by f.
func (iv Interval) Scale(f float64) Interval {
	iv.Median, iv.Lo, iv.Hi = iv.Median*f, iv.Lo*f, iv.Hi*f
	return iv
}

// Comparison is the Mann-Whitney U test of two samples.
type Comparison struct {
	P float64 `json:"p"`
	// Significant is P <= Alpha: the two differ. With fewer than 4 values a
	// side the test cannot reach Alpha, whatever the values.
	Significant bool `json:"significant"`
}

// Compare tests whether a and b differ in location.
func Compare(a, b []float64) Comparison {
	a, b = finite(a), finite(b)
	if len(a) == 0 || len(b) == 0 {
		return Comparison{P: 1}
	}
	th := benchmath.DefaultThresholds
	c := benchmath.AssumeNothing.Compare(benchmath.NewSample(a, &th), benchmath.NewSample(b, &th))
	return Comparison{P: c.P, Significant: c.P <= Alpha}
}

func finite(values []float64) []float64 {
	var out []float64
	for _, v := range values {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			out = append(out, v)
		}
	}
	return out
}
