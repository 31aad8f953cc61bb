package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/flipbench/flipbench/bench"
	"github.com/flipbench/flipbench/report"
)

func reportCmd(stdout, stderr io.Writer) command {
	fs := newFlagSet("report", `Usage: loadtest report [flags] RUN

Recomputes every level's metrics and vegeta reports of the run folder RUN (as
written by bench) from its raw results (<mode>/burst-N.bin), then writes
summary.md, summary.json and the plots again, and prints summary.md.`, stderr)
	quiet := fs.Bool("q", false, "do not print summary.md")
	return command{fs: fs, run: func(_ context.Context, args []string) error {
		if len(args) != 1 {
			return usagef("want one run folder, got %d arguments", len(args))
		}
		if _, err := report.Rerender(args[0]); err != nil {
			return err
		}
		path := filepath.Join(args[0], bench.FileSummaryMD)
		fmt.Fprintf(stderr, "report: wrote %s, %s and plots\n", path, bench.FileSummaryJSON)
		if *quiet {
			return nil
		}
		md, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		_, err = stdout.Write(md)
		return err
	}}
}
