package experiment

import (
	"errors"
	"fmt"
	"strings"

	"github.com/flipbench/flipbench/bench"
)

// ErrProblems is wrapped by the error an experiment returns when it ran but
// some server did not behave.
var ErrProblems = bench.ErrProblems

// Finish ends an experiment's run: it writes the result, then returns err
// (a cancellation or a failed write) or, without one, the problems as
// ProblemsError does.
func Finish(err error, problems []string, write func() error) error {
	if err != nil {
		return errors.Join(err, write())
	}
	if err := write(); err != nil {
		return err
	}
	return ProblemsError(problems)
}

// ProblemsError is nil without problems, else an error wrapping
// ErrProblems that lists them.
func ProblemsError(problems []string) error {
	if len(problems) == 0 {
		return nil
	}
	return fmt.Errorf("%w:\n  %s", ErrProblems, strings.Join(problems, "\n  "))
}

// WriteTail ends a summary: its problems, its plots and a note on where the
// raw data is.
func WriteTail(b *strings.Builder, problems, plots []string, note string) {
	if len(problems) > 0 {
		b.WriteString("\nProblems:\n\n" + strings.Join(problems, "\n") + "\n")
	}
	for _, p := range plots {
		fmt.Fprintf(b, "\n![%s](%s)\n", strings.TrimSuffix(p, ".svg"), p)
	}
	b.WriteString("\n" + note + "\n")
}
