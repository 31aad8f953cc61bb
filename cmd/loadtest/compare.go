package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/flipbench/flipbench/report"
	"github.com/flipbench/flipbench/runfolder"
)

func compareCmd(stdout, stderr io.Writer) command {
	fs := newFlagSet("compare", `Usage: loadtest compare [flags] A B

Puts the runs in folders A and B side by side: calibration, makespan, median and
p99 latency, throughput and efficiency for every mode and level both ran, with
the ratio B/A (for times, below 1 means B was faster). Reads each run's
summary.json.`, stderr)
	out := fs.String("out", "", "also write the comparison to this `file` (Markdown)")
	return command{fs: fs, run: func(_ context.Context, args []string) error {
		if len(args) != 2 {
			return usagef("want two run folders A and B, got %d arguments", len(args))
		}
		a, err := runfolder.LoadSummary(args[0])
		if err != nil {
			return err
		}
		b, err := runfolder.LoadSummary(args[1])
		if err != nil {
			return err
		}
		md := report.RenderCompare(a, b)
		if *out != "" {
			if err := os.WriteFile(*out, []byte(md), 0o644); err != nil {
				return fmt.Errorf("write comparison: %w", err)
			}
		}
		_, err = io.WriteString(stdout, md)
		return err
	}}
}
