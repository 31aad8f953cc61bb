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
	// Significant is P <= Alpha: the two differ.
	Significant bool `json:"significant"`
	// Untested is true when the samples are too few for the test to reach
	// Alpha whatever their values (see Testable): not significant then
	// says nothing about a difference. K is the smaller sample's size.
	// Both are zero in comparisons stored before them.
	Untested bool `json:"untested,omitempty"`
	K        int  `json:"k,omitempty"`
}

// Compare tests whether a and b differ in location.
func Compare(a, b []float64) Comparison {
	a, b = finite(a), finite(b)
	if len(a) == 0 || len(b) == 0 {
		return Judge(1, len(a), len(b))
	}
	th := benchmath.DefaultThresholds
	c := benchmath.AssumeNothing.Compare(benchmath.NewSample(a, &th), benchmath.NewSample(b, &th))
	return Judge(c.P, len(a), len(b))
}

// Judge is the comparison a U test's p makes of samples of n1 and n2
// values; stored comparisons without sizes are judged again by it.
func Judge(p float64, n1, n2 int) Comparison {
	return Comparison{P: p, Significant: p <= Alpha, Untested: !Testable(n1, n2), K: min(n1, n2)}
}

// MinP is the smallest p the two-sided exact U test gives samples of n1
// and n2 values, every value of one side beyond the other's:
// 2 / C(n1+n2, n1), at most 1 (1 when a side is empty).
func MinP(n1, n2 int) float64 {
	if n1 < 1 || n2 < 1 {
		return 1
	}
	ways := 1.0 // C(n1+n2, n1)
	for i := 1; i <= n1; i++ {
		ways = ways * float64(n2+i) / float64(i)
	}
	return min(2/ways, 1)
}

// Testable reports whether samples of n1 and n2 values can differ
// significantly at Alpha: 3 against 3 cannot (MinP 0.1), 3 against 5
// (0.036) and 4 against 4 (0.029) can.
func Testable(n1, n2 int) bool { return MinP(n1, n2) <= Alpha }

func finite(values []float64) []float64 {
	var out []float64
	for _, v := range values {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			out = append(out, v)
		}
	}
	return out
}
