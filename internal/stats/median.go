package stats

import (
	"math"
	"slices"
)

// Median returns the middle of xs; for an even count, the mean of the two
// middle values (benchmath's rule, so a median here and an Interval's agree).
// It is 0 for none, and NaN when a value is NaN, so that a sample that could
// not be measured shows instead of hiding in the middle. It does not change
// xs.
func Median[T ~int64 | ~float64](xs []T) T {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	for _, x := range s {
		if math.IsNaN(float64(x)) {
			return x
		}
	}
	slices.Sort(s)
	m := len(s) / 2
	if len(s)%2 == 1 {
		return s[m]
	}
	return s[m-1] + (s[m]-s[m-1])/2 // no overflow for durations near the limit
}
