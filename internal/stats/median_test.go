package stats

import (
	"math"
	"testing"
	"time"
)

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		xs   []float64
		want float64
	}{
		{nil, 0},
		{[]float64{3}, 3},
		{[]float64{5, 1, 3}, 3},
		{[]float64{4, 1, 3, 2}, 2.5},
	} {
		if got := Median(tc.xs); got != tc.want {
			t.Errorf("Median(%v) = %v, want %v", tc.xs, got, tc.want)
		}
	}
	if got := Median([]float64{1, math.NaN(), 2, 3, 4}); !math.IsNaN(got) {
		t.Errorf("Median with a NaN = %v, want NaN", got)
	}
	ds := []time.Duration{40 * time.Millisecond, 10 * time.Millisecond, 30 * time.Millisecond, 20 * time.Millisecond}
	if got := Median(ds); got != 25*time.Millisecond {
		t.Errorf("Median(%v) = %v, want 25ms", ds, got)
	}
	if ds[0] != 40*time.Millisecond {
		t.Errorf("Median sorted its argument: %v", ds)
	}
	if got := Median([]time.Duration{math.MaxInt64 - 1, math.MaxInt64 - 3}); got != math.MaxInt64-2 {
		t.Errorf("Median near the limit = %d, want %d", got, int64(math.MaxInt64-2))
	}
}
