package experiment

import (
	"errors"
	"fmt"
	"strings"

	"github.com/flipbench/flipbench/trial"
)

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
	return trial.ProblemsError(problems)
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
