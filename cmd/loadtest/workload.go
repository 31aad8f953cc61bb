package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/flipbench/flipbench/trial"
)

// runWorkload runs a measuring command's run, renders its result into the
// run folder out with write (whose summary is the file summary there) and
// prints that summary: the end every workload of bench and balance shares.
func runWorkload[R any](ctx context.Context, stdout, stderr io.Writer, name, out, summary string,
	run func(context.Context) (*R, error), write func(string, *R) (string, error)) error {
	start := time.Now()
	res, err := run(ctx)
	if res == nil {
		return err
	}
	md, werr := write(out, res)
	err = errors.Join(err, werr)
	fmt.Fprintf(stderr, "%s: %s in %s; summary in %s\n", name, doneWord(err), time.Since(start).Round(time.Second), filepath.Join(out, summary))
	// A run that ended for another reason than its servers' problems has
	// no summary worth reading.
	if ctx.Err() == nil && (err == nil || errors.Is(err, trial.ErrProblems)) {
		_, _ = io.WriteString(stdout, md)
	}
	return err
}
