package trial

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// ErrProblems is wrapped by the error a run returns when every trial ran
// but some server did not behave (a bad exit code, files left behind, a
// failed warm-up).
var ErrProblems = errors.New("bench found problems")

// ProblemsError is nil without problems, else an error wrapping
// ErrProblems that lists them, one a line.
func ProblemsError(problems []string) error {
	if len(problems) == 0 {
		return nil
	}
	return fmt.Errorf("%w:\n  %s", ErrProblems, strings.Join(problems, "\n  "))
}

// problems says what went wrong in how a server stopped. guarded means the
// memory guard killed it: its early exit, exit code and leftovers are then
// the guard's doing. plain means a server that knows nothing of flipbench,
// for which dying of the SIGTERM is a clean stop.
func (r stopResult) problems(grace time.Duration, logPath string, guarded, plain bool) []string {
	var ps []string
	switch {
	case guarded:
	case r.Early:
		ps = append(ps, fmt.Sprintf("exited on its own (exit code %d) before it was stopped; see %s", r.ExitCode, logPath))
	case r.Killed:
		ps = append(ps, fmt.Sprintf("did not exit within %s of SIGTERM; its process group was killed", grace))
	case plain && r.ExitCode == -1:
	case r.ExitCode != 0:
		ps = append(ps, fmt.Sprintf("exit code %d after SIGTERM (want 0); see %s", r.ExitCode, logPath))
	}
	if len(r.Survivors) > 0 {
		ps = append(ps, fmt.Sprintf("processes %v of its group outlived it (killed)", r.Survivors))
	}
	if len(r.Leftovers) > 0 && !guarded { // a killed server cannot clean up
		ps = append(ps, fmt.Sprintf("left %d entries in its tmpdir: %s", len(r.Leftovers), strings.Join(firstN(r.Leftovers, 5), ", ")))
	}
	return ps
}

// firstN is s cut to n entries and a count of the rest.
func firstN(s []string, n int) []string {
	if len(s) <= n {
		return s
	}
	return append(slices.Clone(s[:n]), fmt.Sprintf("… %d more", len(s)-n))
}
