package bench

import (
	"cmp"
	"context"
	"fmt"
	"time"

	"github.com/flipbench/flipbench/loadtest"
	"github.com/flipbench/flipbench/runfolder"
	"github.com/flipbench/flipbench/trial"
)

// roundState is what a round knows while it runs.
type roundState struct {
	rec runfolder.Round
	s   *runfolder.RunS // nil until BaselineMode measured it
	// pooled and answers are BaselineMode's bursts after its S burst: their
	// levels and answer times, which the round's S pools.
	pooled  []int
	answers [][]time.Duration
}

// round runs round r: the S-only start when BaselineMode is not a mode of
// the run, then one trial of every mode in the round's rotated order; then
// it sets the round's S.
func (b *runner) round(ctx context.Context, r int) error {
	order := trial.Rotate(b.specs, r)
	b.cur = &roundState{rec: runfolder.Round{Index: r, Levels: b.c.Runs.RoundLevels(b.c.Levels, r)}}
	if r <= max(b.c.Runs.Default, 1) {
		b.cur.rec.Clients = b.c.Clients
	}
	for _, s := range order {
		b.cur.rec.Order = append(b.cur.rec.Order, s.Name)
	}
	if b.rounds > 1 {
		b.h.Logf("round %d of %d: %v, bursts %v", r, b.rounds, b.cur.rec.Order, b.cur.rec.Levels)
	}
	err := b.sOnly(ctx, r)
	for _, spec := range order {
		if err != nil {
			break
		}
		err = b.trial(ctx, r, spec)
	}
	b.finishRound()
	return err
}

// sOnly starts BaselineMode for the round's S alone, into runfolder.DirS,
// when it is not a mode of the run.
func (b *runner) sOnly(ctx context.Context, r int) error {
	if b.sSpec == nil {
		return nil
	}
	b.h.Logf("S: %s is not in this run; a start of it measures round %d's S", b.sSpec.Name, r)
	b.tr.Begin(b.slot, -1)
	b.slot++
	s, rec, err := RunS(ctx, b.h, r, runfolder.TrialDir(b.c.Out, runfolder.DirS, r))
	for _, p := range rec.Problems {
		b.problems = append(b.problems, fmt.Sprintf("S on %s, round %d: %s", b.sSpec.Name, r, p))
	}
	b.cur.s = s
	return err
}

// measureS measures the round's S on t, a warmed-up BaselineMode server
// that is also a mode of the run.
func (b *runner) measureS(ctx context.Context, t *trial.Trial) error {
	s, err := measureSOn(ctx, t)
	b.cur.s = s
	return err
}

// trial runs mode spec's trial of round r and files its record.
func (b *runner) trial(ctx context.Context, r int, spec trial.Spec) error {
	slot := b.slot
	b.slot++
	b.tr.Begin(slot, -1)
	answered := 0
	b.h.OnAnswer = func() { answered++; b.tr.Add() }
	dir := runfolder.TrialDir(b.c.Out, spec.Name, r)
	spec, admin, err := withAdmin(spec, dir)
	if err != nil {
		return err
	}
	defer admin.remove()
	f := &flipTrial{b: b, slot: slot, answered: &answered, adminToken: admin.token}
	rec, sized, err := b.h.Run(ctx, spec, r, dir, f.measure)
	if ctx.Err() != nil {
		b.tr.Halt()
	} else if len(rec.Levels) < len(b.cur.rec.Levels) {
		b.tr.Skip(answered)
	}
	mr := b.modeRun(spec)
	if r == 1 {
		mr.Spec, mr.Trial = sized, rec
	} else {
		mr.Rounds = append(mr.Rounds, rec)
	}
	for _, p := range rec.Problems {
		where := spec.Name
		if b.rounds > 1 {
			where += fmt.Sprintf(", round %d", r)
		}
		b.problems = append(b.problems, where+": "+p)
	}
	return err
}

// finishRound sets the round's S from every answer gap of BaselineMode's
// bursts (PoolS) and files the round. The round's bursts are not touched:
// their ideal and efficiency are derived from this S where the summary's
// figures are built (runfolder.Summary.BurstIdeal).
func (b *runner) finishRound() {
	cur := b.cur
	if cur.s != nil {
		PoolS(cur.s, cur.pooled, cur.answers)
		b.h.Logf("round %d: S = %s, the median of %d gaps between answers on %s (its S burst and bursts %v)",
			cur.rec.Index, cur.s.S, cur.s.Gaps, cur.s.Mode, cur.pooled)
	}
	cur.rec.S = cur.s
	b.sum.Rounds = append(b.sum.Rounds, cur.rec)
	if cur.rec.Index == 1 {
		b.sum.S = cur.s
	}
}

// estimate logs, once the first warm-up gave a job time s, how long the
// whole run will take: every burst at its ideal makespan, every keep-alive
// run at its duration, in s, as if every mode had one job slot (so rather
// too long than too short).
func (b *runner) estimate(s time.Duration) {
	var d time.Duration
	for r := 1; r <= b.rounds; r++ {
		d += perStart * time.Duration(len(b.specs))
		for _, n := range b.c.Runs.RoundLevels(b.c.Levels, r) {
			d += time.Duration(len(b.specs)) * loadtest.IdealMakespan(n, 1, s)
		}
		if r <= max(b.c.Runs.Default, 1) {
			for _, c := range b.c.Clients {
				d += time.Duration(len(b.specs)) * cmp.Or(b.c.ClientsDuration, KeepAliveDuration(c, 1, s))
			}
			d += time.Duration(len(b.specs)) * rateTime(b.c.Rate, s)
		}
	}
	b.h.Logf("bench: %d rounds of %d modes; at S ≈ %s this takes at most about %s", b.rounds, len(b.specs), s.Round(time.Millisecond), d.Round(time.Second))
}

// perStart is a guess at a trial's time beside its load: start, warm-up,
// S burst, stop.
const perStart = 3 * time.Second

// guessS is the job time a burst's timeout and keep-alive duration are
// counted in before the round's S is known: the last round's S, or the
// trial's own warm-up job time, whichever is longer (a Node job takes
// several Go jobs' time).
func (b *runner) guessS(own time.Duration) time.Duration {
	s := own
	if b.cur.s != nil {
		s = max(s, b.cur.s.S.D())
	} else if n := len(b.sum.Rounds); n > 0 && b.sum.Rounds[n-1].S != nil {
		s = max(s, b.sum.Rounds[n-1].S.S.D())
	}
	return s
}
