package bench

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/flipbench/flipbench/internal/syncbuf"
	"github.com/flipbench/flipbench/internal/testproc"
	"github.com/flipbench/flipbench/loadtest"
	"github.com/flipbench/flipbench/runfolder"
	"github.com/flipbench/flipbench/server/servertest"
	"github.com/flipbench/flipbench/trial"
)

// testRate is a short sweep: two steps of a few arrivals.
func testRate() *runfolder.RatePlan {
	return &runfolder.RatePlan{Loads: []float64{0.5, 1.2}, ArrivalsPerStep: 8, Arrivals: loadtest.ArrivalsPoisson, Seed: 7,
		SLO: runfolder.SLO{TimesS: 5}}
}

func TestRunRateSweep(t *testing.T) {
	out := filepath.Join(t.TempDir(), "run")
	var log bytes.Buffer
	cfg := testConfig(t, servertest.LinkBin(t), out, &log)
	cfg.Modes, cfg.Levels, cfg.Rate = []string{"shared", "standard"}, nil, testRate()
	cfg.Runs = Runs{Default: 2}
	sum, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatalf("bench: %v\nlog:\n%s", err, log.String())
	}
	if sum.Rate == nil || len(sum.Levels) != 0 {
		t.Fatalf("summary rate %+v, levels %v: want the plan and no bursts", sum.Rate, sum.Levels)
	}
	for _, m := range sum.Modes {
		trials := m.Trials()
		if len(trials) != 2 {
			t.Fatalf("%s: %d trials, want 2 rounds", m.Mode, len(trials))
		}
		for _, tr := range trials {
			if len(tr.Rates) != 2 {
				t.Fatalf("%s round %d: %d steps, want 2", m.Mode, tr.RoundOf(), len(tr.Rates))
			}
			for i, st := range tr.Rates {
				o := st.Metrics
				want := st.Load * float64(tr.Capacity) / st.DriveS.D().Seconds()
				if o.Schedule.Rate < want*0.999 || o.Schedule.Rate > want*1.001 || o.Schedule.Seed != 7+uint64(i) {
					t.Errorf("%s: step %g at %g/s seed %d, want %g/s seed %d", m.Mode, st.Load, o.Schedule.Rate, o.Schedule.Seed, want, 7+i)
				}
				if o.Successes != o.Scheduled || o.Ideal.Count != 0 || o.P99Ratio != 0 {
					t.Errorf("%s: step %g: %d of %d answered, stored ideal %+v: want all answered and no stored ideal", m.Mode, st.Load, o.Successes, o.Scheduled, o.Ideal)
				}
			}
			dir := runfolder.TrialDir(out, m.Mode, tr.RoundOf())
			servertest.RequireFiles(t, filepath.Join(dir, "rate-0.5.bin"), filepath.Join(dir, "rate-1.2.metrics.json"))
		}
	}
	figs := runfolder.RateOf(sum)
	if len(figs) != 4 {
		t.Fatalf("%d rate figures, want 2 modes × 2 steps", len(figs))
	}
	// Each round's ideal is counted in its own S, so no ideal is below the
	// shorter of the two rounds' S; the run's S pools both rounds' gaps and
	// can be above the median of their ideals.
	minS := min(sum.RoundS(1), sum.RoundS(2)).D().Seconds()
	for _, f := range figs {
		if f.Rounds != 2 || f.IdealP99.N != 2 || !(f.P99Ratio.Median > 0) || !(minS > 0) || !(f.IdealP50.Lo >= minS*0.99) {
			t.Errorf("%s at %g: %+v, want 2 rounds with an ideal of at least one S (the rounds' S %s, %s)", f.Mode, f.Load, f, sum.RoundS(1), sum.RoundS(2))
		}
	}
	caps := runfolder.Capacities(figs, runfolder.RateSLO(sum))
	if len(caps) != 2 || caps[0].MaxGoodput <= 0 {
		t.Errorf("capacities %+v", caps)
	}
	if !strings.Contains(log.String(), "standard at 1.2 × capacity: offered") {
		t.Errorf("log lacks the step line:\n%s", log.String())
	}
}

// The memory guard ends an open-model step it trips in: the step is
// recorded as stopped for memory and the mode goes no further.
func TestRunMemoryGuardEndsARateStep(t *testing.T) {
	out := filepath.Join(t.TempDir(), "run")
	var log bytes.Buffer
	cfg := testConfig(t, servertest.LinkBin(t), out, &log)
	cfg.Modes, cfg.Levels = []string{"standard"}, nil
	// 4 × capacity for 300 arrivals: the queue and its 16 MiB a request
	// grow past the budget.
	cfg.Rate = &runfolder.RatePlan{Loads: []float64{4, 5}, ArrivalsPerStep: 300, Arrivals: loadtest.ArrivalsConstant, SLO: runfolder.SLO{TimesS: 5}}
	cfg.ServerEnv = []string{"FAKESERVER_DELAY=50ms", "FAKESERVER_ALLOC=16777216"}
	cfg.MaxRSS = 500 << 20
	sum, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatalf("bench: %v\nlog:\n%s", err, log.String())
	}
	m, _ := sum.Mode("standard")
	if m.MemoryStop == nil || len(m.Rates) != 1 || m.Rates[0].Metrics.Stopped != trial.StoppedMemory {
		t.Fatalf("memory stop %+v, steps %+v: want the first step stopped for memory and no second\nlog:\n%s", m.MemoryStop, m.Rates, log.String())
	}
	if st := m.Rates[0].Metrics; st.Requests >= st.Scheduled {
		t.Errorf("step sent %d of %d: want it cut short", st.Requests, st.Scheduled)
	}
}

func TestRunRateConfigErrors(t *testing.T) {
	for name, p := range map[string]runfolder.RatePlan{
		"no step":      {ArrivalsPerStep: 5, Arrivals: "constant", SLO: runfolder.SLO{TimesS: 5}},
		"zero load":    {Loads: []float64{0}, ArrivalsPerStep: 5, Arrivals: "constant", SLO: runfolder.SLO{TimesS: 5}},
		"no arrival":   {Loads: []float64{1}, Arrivals: "constant", SLO: runfolder.SLO{TimesS: 5}},
		"bad arrivals": {Loads: []float64{1}, ArrivalsPerStep: 5, Arrivals: "burst", SLO: runfolder.SLO{TimesS: 5}},
		"no slo":       {Loads: []float64{1}, ArrivalsPerStep: 5, Arrivals: "constant"},
	} {
		if err := validateRate(&p); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestStepScheduleMakesItsArrivalsAgain(t *testing.T) {
	p := runfolder.RatePlan{Loads: []float64{0.8}, ArrivalsPerStep: 200, Arrivals: loadtest.ArrivalsConstant}
	s, err := StepSchedule(p, 0, 2, 830*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Offsets) != 200 {
		t.Errorf("%d arrivals, want 200", len(s.Offsets))
	}
	again, err := loadtest.NewSchedule(s.Arrivals, s.Rate, s.Duration.D(), s.Seed)
	if err != nil || len(again.Offsets) != len(s.Offsets) || again.Offsets[199] != s.Offsets[199] {
		t.Errorf("made again: %d arrivals, err %v", len(again.Offsets), err)
	}
}

// A server gone during a step ends the step as server gone, well before its
// schedule's end, instead of sending the rest of its arrivals to a dead port.
func TestRunRateStepEndsWhenTheServerIsGone(t *testing.T) {
	out := filepath.Join(t.TempDir(), "run")
	var log syncbuf.Buffer
	cfg := testConfig(t, servertest.LinkBin(t), out, &log)
	cfg.Modes, cfg.Levels = []string{"standard"}, nil
	// 1500 arrivals at about capacity: about 45 s, unless the step ends.
	cfg.Rate = &runfolder.RatePlan{Loads: []float64{1}, ArrivalsPerStep: 1500, Arrivals: loadtest.ArrivalsConstant, SLO: runfolder.SLO{TimesS: 5}}
	pidLine := regexp.MustCompile(`standard: started .* \(pid (\d+)\)`)
	go func() {
		testproc.Poll(time.Minute, func() bool { return strings.Contains(log.String(), "standard: step at") })
		if m := pidLine.FindStringSubmatch(log.String()); m != nil {
			pid, _ := strconv.Atoi(m[1])
			_ = syscall.Kill(-pid, syscall.SIGKILL)
		}
	}()
	sum, err := Run(context.Background(), cfg)
	if err != nil && !errors.Is(err, trial.ErrProblems) {
		t.Fatalf("bench: %v\nlog:\n%s", err, log.String())
	}
	m, _ := sum.Mode("standard")
	if len(m.Rates) != 1 {
		t.Fatalf("steps %+v, want the one cut short\nlog:\n%s", m.Rates, log.String())
	}
	if st := m.Rates[0].Metrics; st.Stopped != loadtest.StoppedGone || st.Requests >= st.Scheduled {
		t.Errorf("step stopped %q after %d of %d: want server gone, cut short", st.Stopped, st.Requests, st.Scheduled)
	}
}
