package bench

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/flipbench/flipbench/internal/stats"
	"github.com/flipbench/flipbench/loadtest"
	"github.com/flipbench/flipbench/runfolder"
	"github.com/flipbench/flipbench/trial"
)

// SBurst is how many requests the burst that measures S sends at once.
const SBurst = 10

// MeasureS fires SBurst requests at once at a warmed-up server of one job
// slot (BaselineMode) and returns S as the median time between consecutive
// answers: one job's time at steady state, which is what an ideal makespan
// counts. A mode's warm-up job time overstates it, by the per-request work
// a burst overlaps with the job before and by a few percent more (on the
// 1 MP photo warm-up jobs ran 70-80 ms where the same server's burst jobs
// ran 60-65 ms, which put standard's own efficiency at 113-117 %). The bench
// pools these gaps with those of BaselineMode's bursts in the same round
// (PoolS). warmupJob bounds the burst's timeout.
func MeasureS(ctx context.Context, srv *trial.Server, warmupJob time.Duration) (*runfolder.RunS, error) {
	timeout := trial.AutoTimeout(SBurst, 1, warmupJob)
	rs, err := loadtest.Burst(ctx, srv.Target(), SBurst,
		loadtest.WithTimeout(timeout), loadtest.WithName(srv.Spec.Name+"/S"))
	if err != nil {
		return nil, fmt.Errorf("%s: S burst: %w", srv.Spec.Name, err)
	}
	ends, err := answerTimes(rs)
	if err != nil {
		return nil, fmt.Errorf("%s: S burst: %w", srv.Spec.Name, err)
	}
	s := &runfolder.RunS{Mode: srv.Spec.Name, S: loadtest.Duration(stats.Median(gaps(ends)))}
	for _, e := range ends {
		s.Answers = append(s.Answers, loadtest.Duration(e))
	}
	return s, nil
}

// answerTimes returns when each of a burst's answers came, from its first
// send, in order; an error when an answer failed (a failure ends early
// and would shorten its gap) or fewer than two came.
func answerTimes(rs []vegeta.Result) ([]time.Duration, error) {
	var start time.Time
	for _, r := range rs {
		if r.Code != http.StatusOK || r.Error != "" {
			return nil, fmt.Errorf("an answer was %d %s", r.Code, r.Error)
		}
		if start.IsZero() || r.Timestamp.Before(start) {
			start = r.Timestamp
		}
	}
	if len(rs) < 2 {
		return nil, fmt.Errorf("%d answers, want at least 2", len(rs))
	}
	ends := make([]time.Duration, 0, len(rs))
	for _, r := range rs {
		ends = append(ends, r.End().Sub(start))
	}
	slices.Sort(ends)
	return ends, nil
}

// gaps returns the times between consecutive sorted answer times.
func gaps(ends []time.Duration) []time.Duration {
	g := make([]time.Duration, 0, max(len(ends)-1, 0))
	for i := 1; i < len(ends); i++ {
		g = append(g, ends[i]-ends[i-1])
	}
	return g
}

// PoolS sets s.S to the median of every gap between consecutive answers of
// s's own burst and of the bursts given: BaselineMode's bursts of the same
// round, in levels, with their answer times. A round's S then rests on
// every answer standard gave in it (109 gaps at bursts of 10 and 100, not
// the S burst's 9), so one slow second of a shared machine moves it little
// and standard's own efficiency stays at or below 1.
func PoolS(s *runfolder.RunS, levels []int, answers [][]time.Duration) {
	var all []time.Duration
	for i := 1; i < len(s.Answers); i++ {
		all = append(all, s.Answers[i].D()-s.Answers[i-1].D())
	}
	for _, ends := range answers {
		all = append(all, gaps(ends)...)
	}
	if len(all) == 0 {
		return
	}
	s.S, s.Pooled, s.Gaps = loadtest.Duration(stats.Median(all)), levels, len(all)
}

// RunS starts the baseline of h's modes file into dir for round r, warms it up and
// measures the round's S on it: for a run whose modes do not include it
// (and for an experiment that counts in S). It
// returns the S (nil when it could not be measured) and the trial's record,
// whose Problems say why.
func RunS(ctx context.Context, h *trial.Harness, r int, dir string) (*runfolder.RunS, runfolder.Trial, error) {
	spec, err := trial.Resolve(h.ModeTable().Baseline, h.Place(), nil)
	if err != nil {
		return nil, runfolder.Trial{Round: r, Problems: []string{err.Error()}}, nil
	}
	var s *runfolder.RunS
	rec, _, err := h.Run(ctx, spec, r, dir, func(ctx context.Context, t *trial.Trial) (err error) {
		s, err = measureSOn(ctx, t)
		return err
	})
	if len(rec.Problems) > 0 {
		s = nil
	}
	return s, rec, err
}

// measureSOn measures S on t's server, a warmed-up BaselineMode, and logs
// it; a failure is t's problem and leaves S nil.
func measureSOn(ctx context.Context, t *trial.Trial) (*runfolder.RunS, error) {
	s, err := MeasureS(ctx, t.Server, t.Rec.WarmupJob.D())
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		t.Problem("%v", err)
		return nil, nil
	}
	s.Warmup = t.Rec.Warmup
	t.Logf("round %d: S burst: %s (median time between answers of a burst of %d on %s; the round's S pools its later bursts too)", t.Round, s.S, SBurst, s.Mode)
	return s, nil
}
