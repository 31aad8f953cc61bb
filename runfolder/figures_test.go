package runfolder

import (
	"testing"
	"time"

	"github.com/flipbench/flipbench/loadtest"
)

// trialOf is a trial of round r with one burst of 10 at throughput tput.
func trialOf(r int, tput float64) Trial {
	return Trial{Round: r, Levels: []loadtest.Metrics{{Level: 10, Requests: 10, Successes: 10, Throughput: tput,
		Makespan: loadtest.Duration(time.Duration(10 / tput * float64(time.Second)))}}}
}

func TestAggregatePairsSpeedupsByRound(t *testing.T) {
	// The machine slows down round by round; shared stays twice standard's.
	sum := &Summary{Levels: []int{10}, Modes: []ModeRun{
		{Mode: "standard", Trial: trialOf(1, 10), Rounds: []Trial{trialOf(2, 8), trialOf(3, 6)}},
		{Mode: "shared", Trial: trialOf(1, 20), Rounds: []Trial{trialOf(2, 16), trialOf(3, 12)}},
	}}
	f := Aggregate(sum)
	if len(f.Bursts) != 2 {
		t.Fatalf("bursts = %+v", f.Bursts)
	}
	sh := f.Bursts[1]
	if sh.Mode != "shared" || sh.Rounds != 3 || sh.Speedup.Median != 2 || sh.Speedup.Lo != 2 || sh.Speedup.Hi != 2 || !sh.Speedup.MinMax {
		t.Errorf("shared's speedup %+v, want exactly 2 every round, min–max", sh.Speedup)
	}
	if sh.VsBaseline == nil || sh.VsBaseline.Significant {
		t.Errorf("3 rounds a side called significant: %+v", sh.VsBaseline)
	}
	if sh.Throughput.Median != 16 || !sh.Throughput.Noisy() {
		t.Errorf("shared's req/s %+v, want median 16, noisy", sh.Throughput)
	}
	if f.Bursts[0].VsBaseline != nil {
		t.Error("standard compared with itself")
	}
}
