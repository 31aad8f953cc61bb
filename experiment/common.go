package experiment

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/flipbench/flipbench/bench"
	"github.com/flipbench/flipbench/loadtest"
)

// ErrProblems is wrapped by the error an experiment returns when it ran but
// some server did not behave.
var ErrProblems = bench.ErrProblems

// LoadAvg returns the 1, 5 and 15 minute load averages as /proc/loadavg
// says them ("" when unknown). The machine may be shared: a reader judges
// the figures by it.
func LoadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}

// LoadText is the sentence of a summary that gives the load around a run.
func LoadText(before, after string, cores int) string {
	if before == "" && after == "" {
		return ""
	}
	return fmt.Sprintf("Load average (1, 5, 15 min) on this %d-core machine: %s at the start, %s at the end; "+
		"above the core count, other work shared the cores with the run.\n\n", cores, before, after)
}

// ReadResult reads the result file of an experiment's run folder dir into
// v; what names the experiment in the error.
func ReadResult(dir, file, what string, v any) error {
	if err := loadtest.ReadJSON(filepath.Join(dir, file), v); err != nil {
		return fmt.Errorf("%s run %s: %w", what, dir, err)
	}
	return nil
}

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
