package runfolder

import (
	"cmp"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/flipbench/flipbench/loadtest"
)

// Summary is a whole run: what summary.json holds.
type Summary struct {
	Run    string `json:"run"`
	Env    Env    `json:"env"`
	Levels []int  `json:"levels"`
	// Clients are the keep-alive client counts the run asked for.
	Clients []int `json:"clients,omitempty"`
	// Rate is the open-model sweep asked for; nil when none.
	Rate *RatePlan `json:"rate,omitempty"`
	// S is the first round's S; nil when BaselineMode could not run (each
	// mode then counts in its own warm-up job time), and in runs stored
	// before it existed. Rounds holds every round's.
	S *RunS `json:"s,omitempty"`
	// Rounds are the run's rounds in the order they ran; empty in runs
	// stored before rounds existed (one round, in Modes).
	Rounds []Round `json:"rounds,omitempty"`
	// Order names every mode the runner knew, in report order: report
	// sorts and colours modes by it. Empty in older runs (Modes' order).
	Order []string `json:"mode_order,omitempty"`
	// Baseline is the mode speedups are over and S is measured on, the
	// modes file's; empty in older runs (BaselineMode). See BaselineName.
	Baseline string    `json:"baseline,omitempty"`
	Modes    []ModeRun `json:"modes"`
	// Figures are the medians and intervals over the rounds; nil in runs
	// stored before them (FiguresOf computes them).
	Figures *Figures `json:"figures,omitempty"`
}

// FiguresOf returns sum's Figures, computed from its trials when it has
// none stored.
func FiguresOf(sum *Summary) *Figures {
	if sum.Figures == nil {
		return Aggregate(sum)
	}
	return sum.Figures
}

// RunS is where a round's S came from: a burst of SBurst on BaselineMode
// after its warm-up and, since rounds pool them, BaselineMode's bursts of
// the round (Pooled); S is the median time between consecutive answers of
// all of them, one job's time at steady state. Runs stored before pooling
// have S as the S burst's mean gap; runs stored before the burst existed
// have no Answers, and their S is the warm-up job time (WarmupJobTime of
// Warmup).
type RunS struct {
	Mode   string              `json:"mode"`
	S      loadtest.Duration   `json:"s"`
	Warmup []loadtest.Duration `json:"warmup"`
	// Answers are the S burst's answer times, from its first send.
	Answers []loadtest.Duration `json:"answers,omitempty"`
	// Pooled are the levels of BaselineMode's bursts whose gaps S also
	// counts, and Gaps how many gaps S is the median of.
	Pooled []int `json:"pooled,omitempty"`
	Gaps   int   `json:"gaps,omitempty"`
}

// Round is one pass over every mode: the order they ran in (it rotates from
// round to round, so drift falls on every mode alike), the levels it fired
// (a level asks for its own number of rounds) and its S.
type Round struct {
	Index   int      `json:"round"` // from 1
	Order   []string `json:"order"`
	Levels  []int    `json:"levels"`
	Clients []int    `json:"clients,omitempty"`
	S       *RunS    `json:"s,omitempty"`
}

// Mode returns the run of the named mode, if any.
func (s *Summary) Mode(name string) (ModeRun, bool) {
	for _, m := range s.Modes {
		if m.Mode == name {
			return m, true
		}
	}
	return ModeRun{}, false
}

// RoundS returns round r's S (the first round's in runs without rounds),
// or 0 when none was measured.
func (s *Summary) RoundS(r int) loadtest.Duration {
	for _, rd := range s.Rounds {
		if rd.Index == r && rd.S != nil {
			return rd.S.S
		}
	}
	if s.S != nil && len(s.Rounds) == 0 {
		return s.S.S
	}
	return 0
}

// ModeOrder sorts mode names in the run's report order, unknown names last
// by name.
func (s *Summary) ModeOrder(a, b string) int { return OrderBy(s.OrderNames())(a, b) }

// BaselineName is the run's baseline mode: Baseline, or BaselineMode in
// runs stored before modes files.
func (s *Summary) BaselineName() string { return cmp.Or(s.Baseline, BaselineMode) }

// OrderBy returns a comparison that sorts mode names by their place in
// names, unknown names last by name.
func OrderBy(names []string) func(a, b string) int {
	return func(a, b string) int {
		ia, ib := slices.Index(names, a), slices.Index(names, b)
		switch {
		case ia >= 0 && ib >= 0:
			return ia - ib
		case ia >= 0:
			return -1
		case ib >= 0:
			return 1
		default:
			return strings.Compare(a, b)
		}
	}
}

// OrderNames returns Order, or in older runs the modes as stored (they were
// written in report order).
func (s *Summary) OrderNames() []string {
	if len(s.Order) > 0 {
		return s.Order
	}
	names := make([]string, len(s.Modes))
	for i, m := range s.Modes {
		names[i] = m.Mode
	}
	return names
}

// WriteSummary writes sum, modes in its report order, as dir's summary.json.
func WriteSummary(dir string, sum *Summary) error {
	slices.SortStableFunc(sum.Modes, func(a, b ModeRun) int { return sum.ModeOrder(a.Mode, b.Mode) })
	return loadtest.WriteJSON(filepath.Join(dir, FileSummaryJSON), sum)
}

// LoadSummary reads a run folder's summary.json, upgrading its old keys.
func LoadSummary(dir string) (*Summary, error) {
	var sum Summary
	if err := readUpgraded(filepath.Join(dir, FileSummaryJSON), upgradeSummary, &sum); err != nil {
		return nil, fmt.Errorf("run %s: %w", dir, err)
	}
	if sum.Run == "" {
		sum.Run = filepath.Base(filepath.Clean(dir))
	}
	if sum.Figures != nil {
		judgeStored(sum.Figures)
		sum.Figures.NoIdeal = noIdeal(&sum) // figures stored before it
	}
	return &sum, nil
}
