package report

import (
	"fmt"
	"strings"
	"time"

	"github.com/flipbench/flipbench/loadtest"
	"github.com/flipbench/flipbench/runfolder"
)

// idealLabel is the legend's name of the ideal, name, saying which
// engine's modes have one when some modes have none (f.NoIdeal).
func idealLabel(sum *runfolder.Summary, f *runfolder.Figures, name string) string {
	if len(f.NoIdeal) == 0 {
		return name
	}
	return fmt.Sprintf("%s (%s modes only)", name, sum.SEngine())
}

// otherEnginesNote says why the modes on other engines have no ideal and no
// efficiency; "" when every mode runs on S's engine.
func otherEnginesNote(sum *runfolder.Summary, f *runfolder.Figures) string {
	if len(f.NoIdeal) == 0 {
		return ""
	}
	return fmt.Sprintf("%s flip with another image library than %s's (%s): S is the time of one job on %s, not on theirs, "+
		"so they have no ideal mark in the plots and no efficiency (–); their speedup over standard is measured and stands.",
		strings.Join(f.NoIdeal, ", "), sum.SMode(), sum.SEngine(), sum.SEngine())
}

// efficiencyText renders mode's efficiency e, "–" for a mode on another
// engine than S's, whose efficiency is counted in another library's job.
func efficiencyText(f *runfolder.Figures, mode string, e float64) string {
	if !f.HasIdeal(mode) {
		return "–"
	}
	return pct(e)
}

// idealText renders mode's ideal makespan, "–" for a mode on another
// engine than S's.
func idealText(f *runfolder.Figures, mode string, ideal time.Duration) string {
	if !f.HasIdeal(mode) {
		return "–"
	}
	return loadtest.Duration(ideal).String() // rounded as every other time
}
