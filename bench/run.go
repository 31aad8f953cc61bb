package bench

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"

	"github.com/flipbench/flipbench/internal/progress"
	"github.com/flipbench/flipbench/loadtest"
	"github.com/flipbench/flipbench/runfolder"
	"github.com/flipbench/flipbench/trial"
)

// Run runs the comparison in rounds and writes the run folder's data:
// env.json, summary.json and per mode its mode.json, server log and level
// files (report.Write renders summary.md and the plots). Each round starts
// every mode's server once, in an order that rotates from round to round,
// warms it up, fires the round's levels and keep-alive clients at it and
// stops it. It returns the summary and an error that wraps trial.ErrProblems when
// a server misbehaved, or ctx's error when it was cancelled (the server of
// the moment is stopped first, and the files written so far are kept).
//
// Each round has its own S, measured by a burst of SBurst on BaselineMode
// after its warm-up (or, when BaselineMode is not asked for, by a start of
// it for that alone at the round's beginning). Every burst of the round is
// counted in it once it is known, so efficiencies compare across modes and
// drift between rounds does not enter them.
func Run(ctx context.Context, c Config) (*runfolder.Summary, error) {
	c.fill()
	if err := c.validate(); err != nil {
		return nil, err
	}
	b, err := newRunner(ctx, c)
	if err != nil {
		return nil, err
	}
	defer b.h.Close() // after every server has been stopped
	for r := 1; r <= b.rounds; r++ {
		if err := b.round(ctx, r); err != nil {
			b.tr.Finish(false)
			return b.sum, errors.Join(err, b.write())
		}
	}
	b.tr.Finish(true)
	if err := b.write(); err != nil {
		return b.sum, err
	}
	return b.sum, trial.ProblemsError(b.problems)
}

// runner is one Run's state.
type runner struct {
	c        Config
	h        *trial.Harness
	tr       *progress.Tracker
	sum      *runfolder.Summary
	specs    []trial.Spec // the modes that can run, in report order
	sSpec    *trial.Spec  // BaselineMode started only to measure S; nil when it is among specs or cannot run
	rounds   int
	slot     int // the progress tracker's current slot
	problems []string
	cur      *roundState
}

// newRunner resolves the modes (one whose need is missing is skipped),
// opens the run folder and plans the progress tracker.
func newRunner(ctx context.Context, c Config) (*runner, error) {
	place := c.Place()
	b := &runner{c: c, rounds: c.Runs.Rounds(c.Levels)}
	b.sum = &runfolder.Summary{Run: filepath.Base(filepath.Clean(c.Out)), Levels: c.Levels, Clients: c.Clients, Rate: c.Rate,
		Order: c.ModeTable().AllNames(), Baseline: c.ModeTable().Baseline}
	all, specs, err := trial.ResolveAll(c.Modes, place, c.ModeArgs, "mode", c.Log)
	if err != nil {
		return nil, err
	}
	b.specs = specs
	for i, r := range all {
		if r.Skipped != "" {
			b.sum.Modes = append(b.sum.Modes, runfolder.ModeRun{Mode: c.Modes[i], Spec: r.Spec, Skipped: r.Skipped})
		}
	}
	if !slices.ContainsFunc(b.specs, func(s trial.Spec) bool { return s.Name == b.sum.BaselineName() }) {
		if spec, err := trial.Resolve(b.sum.BaselineName(), place, nil); err == nil {
			b.sSpec = &spec
		}
	}
	b.h = c.Harness()
	b.h.WarmTimeout = c.Timeout
	env, err := b.h.Open(ctx, append(slices.Clone(c.Modes), runfolder.DirS),
		[]string{"*.svg", "*.png", runfolder.FileSummaryMD, runfolder.FileSummaryJSON}, b.specs)
	if err != nil {
		return nil, err
	}
	b.sum.Env = env
	b.tr = progress.New(c.Progress, c.Log, b.slots(), c.Warmups)
	b.h.Logf = b.tr.Logf
	return b, nil
}

// slots lists every trial of the run for the progress tracker, in the order
// the rounds will run them.
func (b *runner) slots() []progress.Slot {
	var slots []progress.Slot
	for r := 1; r <= b.rounds; r++ {
		levels := b.c.Runs.RoundLevels(b.c.Levels, r)
		if b.sSpec != nil {
			slots = append(slots, progress.Slot{Name: b.slotName(b.sSpec.Name+" (S)", r)})
		}
		for _, s := range trial.Rotate(b.specs, r) {
			slots = append(slots, progress.Slot{Name: b.slotName(s.Name, r), Levels: levels})
		}
	}
	return slots
}

func (b *runner) slotName(name string, r int) string {
	if b.rounds == 1 {
		return name
	}
	return fmt.Sprintf("%s, round %d/%d", name, r, b.rounds)
}

// modeRun returns the summary's record of spec's mode, added at its first
// trial (a cancelled run lists only the modes that started).
func (b *runner) modeRun(spec trial.Spec) *runfolder.ModeRun {
	for i := range b.sum.Modes {
		if b.sum.Modes[i].Mode == spec.Name {
			return &b.sum.Modes[i]
		}
	}
	b.sum.Modes = append(b.sum.Modes, runfolder.ModeRun{Mode: spec.Name, Spec: spec})
	return &b.sum.Modes[len(b.sum.Modes)-1]
}

// write writes every mode's mode.json and the summary.
func (b *runner) write() error {
	var errs []error
	for _, mr := range b.sum.Modes {
		if mr.Skipped == "" {
			errs = append(errs, loadtest.WriteJSON(filepath.Join(b.c.Out, mr.Mode, runfolder.FileMode), mr))
		}
	}
	b.sum.Figures = runfolder.Aggregate(b.sum)
	errs = append(errs, runfolder.WriteSummary(b.c.Out, b.sum))
	return errors.Join(errs...)
}
