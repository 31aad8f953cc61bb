package loadtest

import (
	"math"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestScheduleConstantIsArtillerysArrivalRate(t *testing.T) {
	s, err := NewSchedule(ArrivalsConstant, 20, 30*time.Second, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Offsets) != 600 {
		t.Fatalf("arrivals = %d, want 600 (20/s for 30 s)", len(s.Offsets))
	}
	for i, o := range s.Offsets {
		if want := time.Duration(i) * 50 * time.Millisecond; o != want {
			t.Fatalf("arrival %d at %s, want %s", i, o, want)
		}
	}
	if got := s.OfferedRate(); got != 20 {
		t.Errorf("offered rate = %g, want 20", got)
	}
	if got := s.Name(); got != "open-constant-20-for-30s" {
		t.Errorf("name = %q", got)
	}
	if got := s.LagBound(); got != 25*time.Millisecond {
		t.Errorf("lag bound = %s, want half the 50 ms gap", got)
	}
	if got := (Schedule{Rate: 1000}).LagBound(); got != MinLagBound {
		t.Errorf("lag bound at 1000/s = %s, want the least, %s", got, MinLagBound)
	}
}

func TestSchedulePoisson(t *testing.T) {
	const rate = 50.0
	a, err := NewSchedule(ArrivalsPoisson, rate, 400*time.Second, 7)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewSchedule(ArrivalsPoisson, rate, 400*time.Second, 7)
	c, _ := NewSchedule(ArrivalsPoisson, rate, 400*time.Second, 8)
	if !slices.Equal(a.Offsets, b.Offsets) {
		t.Error("one seed gave two schedules")
	}
	if slices.Equal(a.Offsets, c.Offsets) {
		t.Error("seeds 7 and 8 gave the same schedule")
	}
	if !slices.IsSorted(a.Offsets) || a.Offsets[0] <= 0 || a.Offsets[len(a.Offsets)-1] >= 400*time.Second {
		t.Errorf("arrivals not in order within (0, 400s): first %s, last %s", a.Offsets[0], a.Offsets[len(a.Offsets)-1])
	}
	// 20,000 expected arrivals: the count's standard deviation is sqrt(20000)
	// = 0.7 %; the gaps' coefficient of variation is 1 for exponential gaps
	// (0 for constant ones). 5 % bounds both for this seed and fails a
	// constant or a wrongly scaled draw.
	n := float64(len(a.Offsets))
	if math.Abs(a.OfferedRate()-rate) > 0.05*rate {
		t.Errorf("offered rate = %g, want %g within 5 %%", a.OfferedRate(), rate)
	}
	var sum, sq float64
	prev := time.Duration(0)
	for _, o := range a.Offsets {
		g := (o - prev).Seconds()
		sum, sq, prev = sum+g, sq+g*g, o
	}
	mean := sum / n
	cv := math.Sqrt(sq/n-mean*mean) / mean
	if math.Abs(cv-1) > 0.05 {
		t.Errorf("gaps' coefficient of variation = %.3f, want 1 within 0.05 (exponential)", cv)
	}
	if a.Seed != 7 || !strings.Contains(a.String(), "seed 7") {
		t.Errorf("seed not recorded: %+v, %q", a.Seed, a)
	}
}

func TestScheduleBadInput(t *testing.T) {
	for _, tc := range []struct {
		kind string
		rate float64
		d    time.Duration
		seed uint64
		want string
	}{
		{"bursty", 1, time.Second, 0, `arrivals "bursty": want constant or poisson`},
		{ArrivalsConstant, 0, time.Second, 0, "must be positive"},
		{ArrivalsPoisson, -3, time.Second, 1, "must be positive"},
		{ArrivalsConstant, math.NaN(), time.Second, 0, "must be positive"},
		{ArrivalsConstant, 1, 0, 0, "duration must be positive"},
		{ArrivalsConstant, 2, 400 * time.Millisecond, 0, "too short for one arrival (need at least 500ms)"},
		{ArrivalsPoisson, 2, 400 * time.Millisecond, 1, "too short for one arrival"},
		{ArrivalsConstant, 1e6, time.Hour, 0, "more than"},
		{ArrivalsConstant, 5, time.Second, 9, "constant arrivals draw nothing"},
	} {
		if _, err := NewSchedule(tc.kind, tc.rate, tc.d, tc.seed); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("NewSchedule(%q, %g, %s, %d): error %v, want one with %q", tc.kind, tc.rate, tc.d, tc.seed, err, tc.want)
		}
	}
}

func TestSchedulePacer(t *testing.T) {
	p := &schedulePacer{offsets: []time.Duration{0, 100 * time.Millisecond, 300 * time.Millisecond}, rate: 10}
	for _, tc := range []struct {
		elapsed time.Duration
		hits    uint64
		wait    time.Duration
		stop    bool
	}{
		{0, 0, 0, false},
		{20 * time.Millisecond, 1, 80 * time.Millisecond, false},
		{350 * time.Millisecond, 2, 0, false}, // behind: send at once
		{400 * time.Millisecond, 3, 0, true},
	} {
		wait, stop := p.Pace(tc.elapsed, tc.hits)
		if wait != tc.wait || stop != tc.stop {
			t.Errorf("Pace(%s, %d) = %s, %v; want %s, %v", tc.elapsed, tc.hits, wait, stop, tc.wait, tc.stop)
		}
	}
	if p.began.IsZero() || p.Rate(0) != 10 {
		t.Errorf("pacer: began %v, rate %g", p.began, p.Rate(0))
	}
}
