package runfolder

import (
	"slices"
	"time"

	"github.com/flipbench/flipbench/loadtest"
)

// TrialS is the S trial t's bursts are counted in: its round's S, else
// (no S was measured) the trial's own warm-up job time.
func (s *Summary) TrialS(t Trial) time.Duration {
	if rs := s.RoundS(t.RoundOf()); rs > 0 {
		return rs.D()
	}
	return t.WarmupJob.D()
}

// BurstIdeal derives the ideal of trial t's burst l from TrialS, on l's
// capacity (the trial's when l has none). A burst the memory guard cut
// short keeps its ideal makespan but has no efficiency: it has no makespan
// to compare.
func (s *Summary) BurstIdeal(t Trial, l loadtest.Metrics) loadtest.Ideal {
	id := l.IdealIn(s.TrialS(t), t.Capacity)
	if t.MemoryStop != nil && t.MemoryStop.Level == l.Level {
		id.Efficiency = 0
	}
	return id
}

// SEngine is the image library the run's S was measured on: the S mode's
// (the baseline's, on Go's imaging, when that mode is not among the run's
// modes, as when it ran for S alone). It is "" when the run has no S:
// each mode's ideal is then counted in its own warm-up job time.
func (s *Summary) SEngine() string {
	if s.S == nil {
		return ""
	}
	if m, ok := s.Mode(s.SMode()); ok {
		return m.Spec.Engine()
	}
	return EngineGoDefault
}

// SMode names the mode the run's S was measured on.
func (s *Summary) SMode() string {
	if s.S != nil && s.S.Mode != "" {
		return s.S.Mode
	}
	return s.BaselineName()
}

// noIdeal returns the modes that ran on another engine than S's, in the
// run's order: S is not their job's time, so their ideal makespan,
// efficiency and ideal speedup mean nothing.
func noIdeal(sum *Summary) []string {
	e := sum.SEngine()
	if e == "" {
		return nil
	}
	var out []string
	for _, m := range sum.Modes {
		if m.Skipped == "" && m.Spec.Engine() != e {
			out = append(out, m.Mode)
		}
	}
	return out
}

// HasIdeal reports whether mode's ideals mean anything: it is not among
// NoIdeal, decided once per summary.
func (f *Figures) HasIdeal(mode string) bool { return !slices.Contains(f.NoIdeal, mode) }
