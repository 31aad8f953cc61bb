package report

import (
	"fmt"
	"strings"

	"github.com/flipbench/flipbench/loadtest"
	"github.com/flipbench/flipbench/runfolder"
)

// sEngine is the image library the run's S was measured on: the S mode's
// (BaselineMode's, on Go's imaging, when that mode is not among the run's
// modes, as when it ran for S alone). It is "" when the run has no S: each
// mode's ideal is then counted in its own warm-up job time.
func sEngine(sum *runfolder.Summary) string {
	if sum.S == nil {
		return ""
	}
	ref := sum.S.Mode
	if ref == "" {
		ref = sum.BaselineName()
	}
	if m, ok := sum.Mode(ref); ok {
		return m.Spec.Engine()
	}
	return runfolder.EngineGoDefault
}

// hasIdeal reports whether mode's ideals (ideal makespan, efficiency, the
// ideal speedup) mean anything: they are counted in S, one job on the S
// mode's engine, so a mode flipping with another library has none; its
// jobs take another time.
func hasIdeal(sum *runfolder.Summary, mode string) bool {
	e := sEngine(sum)
	if e == "" {
		return true
	}
	m, ok := sum.Mode(mode)
	return !ok || m.Spec.Engine() == e
}

// otherEngines returns the modes that ran on another engine than S's, in
// the run's order.
func otherEngines(sum *runfolder.Summary) []string {
	var out []string
	for _, m := range sum.Modes {
		if m.Skipped == "" && !hasIdeal(sum, m.Mode) {
			out = append(out, m.Mode)
		}
	}
	return out
}

// idealLabel is the legend's name of the ideal, name, saying which
// engine's modes have one when some modes have none.
func idealLabel(sum *runfolder.Summary, name string) string {
	if len(otherEngines(sum)) == 0 {
		return name
	}
	return fmt.Sprintf("%s (%s modes only)", name, sEngine(sum))
}

// otherEnginesNote says why the modes on other engines have no ideal and no
// efficiency; "" when every mode runs on S's engine.
func otherEnginesNote(sum *runfolder.Summary) string {
	others := otherEngines(sum)
	if len(others) == 0 {
		return ""
	}
	return fmt.Sprintf("%s flip with another image library than %s's (%s): S is the time of one job on %s, not on theirs, "+
		"so they have no ideal mark in the plots and no efficiency (–); their speedup over standard is measured and stands.",
		strings.Join(others, ", "), sumSMode(sum), sEngine(sum), sEngine(sum))
}

// efficiencyText renders mode's efficiency e, "–" for a mode on another
// engine than S's, whose efficiency is counted in another library's job.
func efficiencyText(sum *runfolder.Summary, mode string, e float64) string {
	if !hasIdeal(sum, mode) {
		return "–"
	}
	return pct(e)
}

// idealText renders mode's ideal makespan, "–" for a mode on another
// engine than S's.
func idealText(sum *runfolder.Summary, mode string, ideal loadtest.Duration) string {
	if !hasIdeal(sum, mode) {
		return "–"
	}
	return ideal.String()
}

// sumSMode names the mode S was measured on.
func sumSMode(sum *runfolder.Summary) string {
	if sum.S != nil && sum.S.Mode != "" {
		return sum.S.Mode
	}
	return sum.BaselineName()
}
