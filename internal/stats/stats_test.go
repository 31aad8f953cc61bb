package stats

import (
	"math"
	"testing"
)

func TestSummarize(t *testing.T) {
	few := Summarize([]float64{3, 1, 2})
	if !few.MinMax || few.Median != 2 || few.Lo != 1 || few.Hi != 3 || few.N != 3 {
		t.Errorf("3 values: %+v, want median 2, min–max 1–3", few)
	}
	many := Summarize([]float64{10, 11, 9, 10.5, 9.5, 10.2, 9.8, 10.1, 9.9, 10})
	if many.MinMax || many.Lo > many.Median || many.Hi < many.Median || many.Lo <= 9 || many.Hi >= 11 {
		t.Errorf("10 values: %+v, want a 95 %% interval inside the range", many)
	}
	if many.Noisy() {
		t.Errorf("half-width %.3f called noisy", many.HalfWidth())
	}
	if !Summarize([]float64{1, 2, 3}).Noisy() {
		t.Error("1 to 3 not called noisy")
	}
	if one := Summarize([]float64{4}); one.Median != 4 || one.Noisy() {
		t.Errorf("one value: %+v", one)
	}
	if z := Summarize([]float64{math.NaN()}); z.N != 0 {
		t.Errorf("NaN counted: %+v", z)
	}
}

// TestCompare: the three words a comparison can carry, each from samples
// that call for it.
func TestCompare(t *testing.T) {
	a := []float64{1, 1.1, 0.9, 1.05, 0.95, 1.02}
	b := []float64{2, 2.1, 1.9, 2.05, 1.95, 2.02}
	if c := Compare(a, b); !c.Significant || c.Untested || c.K != 6 {
		t.Errorf("1 vs 2: %+v, want significant, tested, K 6", c)
	}
	// As far apart as samples get, but 3 a side cannot reach 0.05.
	if c := Compare(a[:3], b[:3]); c.Significant || !c.Untested || c.K != 3 || c.P < 0.1-1e-9 {
		t.Errorf("3 a side: %+v, want untested with K 3 and p 0.1", c)
	}
	// Enough samples to tell, and no difference: n.s.
	if c := Compare(a, []float64{1.01, 0.92, 1.08, 0.97, 1.03, 0.99}); c.Significant || c.Untested {
		t.Errorf("same spread: %+v, want tested, not significant", c)
	}
	if c := Compare(a, a); c.Significant || c.Untested {
		t.Errorf("a vs a: %+v", c)
	}
	if c := Compare(nil, b); c.Significant || !c.Untested || c.P != 1 {
		t.Errorf("an empty side: %+v, want untested", c)
	}
	if c := Compare([]float64{math.NaN(), 1, 2}, []float64{3, 4, 5, 6, 7}); !c.Untested || c.K != 2 {
		t.Errorf("NaN counted as a sample: %+v", c)
	}
}

func TestMinPAndTestable(t *testing.T) {
	for _, tt := range []struct {
		n1, n2 int
		minP   float64
		want   bool
	}{{3, 3, 0.1, false}, {3, 5, 2.0 / 56, true}, {5, 3, 2.0 / 56, true}, {1, 5, 1.0 / 3, false}, {4, 4, 2.0 / 70, true},
		{1, 1, 1, false}, {0, 5, 1, false}} {
		if got := MinP(tt.n1, tt.n2); math.Abs(got-tt.minP) > 1e-12 {
			t.Errorf("MinP(%d, %d) = %v, want %v", tt.n1, tt.n2, got, tt.minP)
		}
		if got := Testable(tt.n1, tt.n2); got != tt.want {
			t.Errorf("Testable(%d, %d) = %v", tt.n1, tt.n2, got)
		}
	}
}

func TestOverlaps(t *testing.T) {
	if !(Interval{Lo: 1, Hi: 2}).Overlaps(Interval{Lo: 2, Hi: 3}) || (Interval{Lo: 1, Hi: 2}).Overlaps(Interval{Lo: 2.5, Hi: 3}) {
		t.Error("overlap wrong")
	}
}
