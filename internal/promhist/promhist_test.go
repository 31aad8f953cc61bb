package promhist

import (
	"math"
	"strings"
	"testing"
)

const scrape = `# HELP h_seconds A histogram.
# TYPE h_seconds histogram
h_seconds_bucket{route="/flip",code="200",worker="0",le="0.1"} 1
h_seconds_bucket{route="/flip",code="200",worker="0",le="0.2"} 3
h_seconds_bucket{route="/flip",code="200",worker="0",le="0.4"} 4
h_seconds_bucket{route="/flip",code="200",worker="0",le="+Inf"} 4
h_seconds_sum{route="/flip",code="200",worker="0"} 0.9
h_seconds_count{route="/flip",code="200",worker="0"} 4
h_seconds_bucket{route="/flip",code="200",worker="1",le="0.1"} 0
h_seconds_bucket{route="/flip",code="200",worker="1",le="0.2"} 2
h_seconds_bucket{route="/flip",code="200",worker="1",le="0.4"} 5
h_seconds_bucket{route="/flip",code="200",worker="1",le="+Inf"} 6
h_seconds_sum{route="/flip",code="200",worker="1"} 2.5
h_seconds_count{route="/flip",code="200",worker="1"} 6
h_seconds_bucket{route="/healthz",code="200",worker="0",le="0.1"} 9
h_seconds_bucket{route="/healthz",code="200",worker="0",le="0.2"} 9
h_seconds_bucket{route="/healthz",code="200",worker="0",le="0.4"} 9
h_seconds_bucket{route="/healthz",code="200",worker="0",le="+Inf"} 9
h_seconds_sum{route="/healthz",code="200",worker="0"} 0.1
h_seconds_count{route="/healthz",code="200",worker="0"} 9
`

func TestParseSumsOverWorkersAndLeavesOtherRoutesOut(t *testing.T) {
	h, found, err := Parse(strings.NewReader(scrape), "h_seconds", map[string]string{"route": "/flip"})
	if err != nil || !found {
		t.Fatalf("Parse: found %v, %v", found, err)
	}
	if h.Count != 10 || len(h.Bounds) != 3 || h.Cumulative[0] != 1 || h.Cumulative[1] != 5 || h.Cumulative[2] != 9 {
		t.Fatalf("got %+v, want count 10, cumulative 1 5 9", h)
	}
	if _, found, _ := Parse(strings.NewReader(scrape), "other_seconds", nil); found {
		t.Fatal("found a histogram the scrape does not have")
	}
}

func TestQuantileInterpolatesLikeHistogramQuantile(t *testing.T) {
	h := Histogram{Bounds: []float64{0.1, 0.2, 0.4}, Cumulative: []uint64{1, 5, 9}, Count: 10}
	for _, c := range []struct{ q, want float64 }{
		{0.5, 0.2},           // rank 5: the top of the second bucket
		{0.3, 0.15},          // rank 3: halfway through the 4 of (0.1, 0.2]
		{0.05, 0.05},         // rank 0.5: halfway through the first bucket, from 0
		{0.99, 0.4},          // rank 9.9: the +Inf bucket answers the largest finite bound
		{0.7, 0.2 + 0.2*0.5}, // rank 7: 2 of the 4 in (0.2, 0.4]
	} {
		if got := h.Quantile(c.q); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("Quantile(%g) = %g, want %g", c.q, got, c.want)
		}
	}
	if !math.IsNaN(Histogram{}.Quantile(0.5)) {
		t.Error("an empty histogram's quantile is not NaN")
	}
}

func TestSub(t *testing.T) {
	after := Histogram{Bounds: []float64{0.1, 0.2}, Cumulative: []uint64{3, 7}, Count: 8}
	before := Histogram{Bounds: []float64{0.1, 0.2}, Cumulative: []uint64{1, 2}, Count: 2}
	d, err := after.Sub(before)
	if err != nil || d.Count != 6 || d.Cumulative[0] != 2 || d.Cumulative[1] != 5 {
		t.Fatalf("Sub = %+v, %v; want count 6, cumulative 2 5", d, err)
	}
	if d, err := after.Sub(Histogram{}); err != nil || d.Count != 8 {
		t.Fatalf("Sub of nothing yet = %+v, %v", d, err)
	}
	if _, err := before.Sub(after); err == nil {
		t.Fatal("a count that went down is not an error")
	}
}
