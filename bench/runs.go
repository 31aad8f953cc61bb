package bench

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/flipbench/flipbench/contract"
	"github.com/flipbench/flipbench/loadtest"
	"github.com/flipbench/flipbench/runfolder"
)

// SBurst is how many requests the burst that measures S sends at once.
const SBurst = 10

// MeasureS fires SBurst requests at once at a warmed-up server of one job
// slot (BaselineMode) and returns the run's S as the mean time between
// consecutive answers: one job's time at steady state, which is what an
// ideal makespan counts. A mode's warm-up job time overstates it, by the
// per-request work a burst overlaps with the job before and by a few
// percent more (on the 1 MP photo warm-up jobs ran 70-80 ms where the same
// server's burst jobs ran 60-65 ms, which put standard's own efficiency at
// 113-117 %). warmupJob bounds the burst's timeout.
func MeasureS(ctx context.Context, srv *Server, warmupJob time.Duration) (*runfolder.RunS, error) {
	timeout := AutoTimeout(SBurst, 1, warmupJob)
	rs, err := loadtest.Burst(ctx, vegeta.Target{Method: http.MethodPost, URL: srv.URL(contract.PathFlip)}, SBurst,
		loadtest.WithTimeout(timeout), loadtest.WithName(srv.Spec.Name+"/S"))
	if err != nil {
		return nil, fmt.Errorf("%s: S burst: %w", srv.Spec.Name, err)
	}
	var start time.Time
	for _, r := range rs {
		if r.Code != http.StatusOK || r.Error != "" {
			return nil, fmt.Errorf("%s: S burst: an answer was %d %s", srv.Spec.Name, r.Code, r.Error)
		}
		if start.IsZero() || r.Timestamp.Before(start) {
			start = r.Timestamp
		}
	}
	ends := make([]time.Duration, 0, len(rs))
	for _, r := range rs {
		ends = append(ends, r.End().Sub(start))
	}
	slices.Sort(ends)
	if len(ends) < 2 {
		return nil, fmt.Errorf("%s: S burst: %d answers, want %d", srv.Spec.Name, len(ends), SBurst)
	}
	s := &runfolder.RunS{Mode: srv.Spec.Name, S: loadtest.Duration((ends[len(ends)-1] - ends[0]) / time.Duration(len(ends)-1))}
	for _, e := range ends {
		s.Answers = append(s.Answers, loadtest.Duration(e))
	}
	return s, nil
}

// RunS starts BaselineMode into dir for round r, warms it up and measures
// the round's S on it: for a run whose modes do not include it. It returns
// the S (nil when it could not be measured) and the trial's record, whose
// Problems say why.
func (h *Harness) RunS(ctx context.Context, r int, dir string) (*runfolder.RunS, runfolder.Trial, error) {
	spec, err := Resolve(runfolder.BaselineMode, h.Place, nil)
	if err != nil {
		return nil, runfolder.Trial{Round: r, Problems: []string{err.Error()}}, nil
	}
	var s *runfolder.RunS
	rec, _, err := h.Run(ctx, spec, r, dir, func(ctx context.Context, t *Trial) (err error) {
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
func measureSOn(ctx context.Context, t *Trial) (*runfolder.RunS, error) {
	s, err := MeasureS(ctx, t.Server, t.Rec.WarmupJob.D())
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		t.Problem("%v", err)
		return nil, nil
	}
	s.Warmup = t.Rec.Warmup
	t.Logf("round %d: S = %s (time between answers of a burst of %d on %s)", t.Round, s.S, SBurst, s.Mode)
	return s, nil
}
