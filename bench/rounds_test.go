package bench

import (
	"slices"
	"testing"
	"time"

	"github.com/flipbench/flipbench/loadtest"
	"github.com/flipbench/flipbench/runfolder"
)

func TestParseRuns(t *testing.T) {
	r, err := ParseRuns("5,1000=1")
	if err != nil {
		t.Fatal(err)
	}
	if r.For(10) != 5 || r.For(1000) != 1 || r.Rounds([]int{10, 1000}) != 5 || r.String() != "5,1000=1" {
		t.Errorf("5,1000=1 read as %+v", r)
	}
	r, err = ParseRuns("10=5,100=3,1000=1")
	if err != nil {
		t.Fatal(err)
	}
	if r.For(10) != 5 || r.For(100) != 3 || r.For(20) != 1 || r.Rounds([]int{10, 100, 1000}) != 5 {
		t.Errorf("per level read as %+v", r)
	}
	if got := r.RoundLevels([]int{10, 100, 1000}, 4); !slices.Equal(got, []int{10}) {
		t.Errorf("round 4 levels %v, want [10]", got)
	}
	for _, bad := range []string{"", "0", "x", "3,4", "10=0", "a=3", "10=2,10=3", "101"} {
		if _, err := ParseRuns(bad); err == nil {
			t.Errorf("ParseRuns(%q) accepted", bad)
		}
	}
}

func TestPoolS(t *testing.T) {
	ms := func(vs ...int) []loadtest.Duration {
		var ds []loadtest.Duration
		for _, v := range vs {
			ds = append(ds, loadtest.Duration(time.Duration(v)*time.Millisecond))
		}
		return ds
	}
	// The S burst alone: gaps 100, 100, 400 (one slow second); median 100.
	s := &runfolder.RunS{Answers: ms(100, 200, 300, 700)}
	PoolS(s, nil, nil)
	if s.S.D() != 100*time.Millisecond || s.Gaps != 3 {
		t.Errorf("S burst alone: S = %s over %d gaps, want 100ms over 3", s.S, s.Gaps)
	}
	// Pooled with a burst whose gaps are 90 ms: the median of 3 + 4 gaps.
	later := []time.Duration{50 * time.Millisecond, 140 * time.Millisecond, 230 * time.Millisecond, 320 * time.Millisecond, 410 * time.Millisecond}
	PoolS(s, []int{5}, [][]time.Duration{later})
	if s.S.D() != 90*time.Millisecond || s.Gaps != 7 || !slices.Equal(s.Pooled, []int{5}) {
		t.Errorf("pooled: S = %s over %d gaps of %v, want 90ms over 7 of [5]", s.S, s.Gaps, s.Pooled)
	}
}
