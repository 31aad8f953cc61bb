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

func TestCompare(t *testing.T) {
	a := []float64{1, 1.1, 0.9, 1.05, 0.95, 1.02}
	b := []float64{2, 2.1, 1.9, 2.05, 1.95, 2.02}
	if c := Compare(a, b); !c.Significant {
		t.Errorf("1 vs 2: %+v, want significant", c)
	}
	if c := Compare(a[:3], b[:3]); c.Significant {
		t.Errorf("3 a side: %+v; the U test cannot reach 0.05 with 3", c)
	}
	if c := Compare(a, a); c.Significant {
		t.Errorf("a vs a: %+v", c)
	}
}

func TestOverlaps(t *testing.T) {
	if !(Interval{Lo: 1, Hi: 2}).Overlaps(Interval{Lo: 2, Hi: 3}) || (Interval{Lo: 1, Hi: 2}).Overlaps(Interval{Lo: 2.5, Hi: 3}) {
		t.Error("overlap wrong")
	}
}
