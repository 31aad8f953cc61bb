package experimenttest

import (
	"strings"
	"testing"
)

// CheckNoise checks the machine noise of a report: render(others...)
// renders a run of one trial per value, in which other processes used that
// many cores (no value: a run from before noise was recorded). A run with
// a trial of 0.9 cores must give the noise line and bench's busy warning
// with busyLine, the trial's line; one of 0.02 and 0.03 the noise line and
// no warning; one without noise, neither.
func CheckNoise(t *testing.T, render func(others ...float64) string, busyLine string) {
	t.Helper()
	const line = "- Machine noise per trial: other processes used"
	busy := render(0.02, 0.9)
	for _, want := range []string{line, "**Warning: the machine was busy** in 1 trial(s)", "> - " + busyLine + "\n"} {
		if !strings.Contains(busy, want) {
			t.Errorf("the report of a busy run lacks %q:\n%s", want, busy)
		}
	}
	if quiet := render(0.02, 0.03); !strings.Contains(quiet, line) || strings.Contains(quiet, "machine was busy") {
		t.Errorf("the report of a quiet run:\n%s", quiet)
	}
	if old := render(); strings.Contains(old, "noise") || strings.Contains(old, "busy") {
		t.Errorf("the report of a run without noise speaks of it:\n%s", old)
	}
}
