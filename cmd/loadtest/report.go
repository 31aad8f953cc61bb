package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/flipbench/flipbench/loadtest"
	"github.com/flipbench/flipbench/report"
	"github.com/flipbench/flipbench/runfolder"
	"github.com/flipbench/flipbench/trial"
)

func reportCmd(stdout, stderr io.Writer) command {
	fs := newFlagSet("report", `Usage: loadtest report [flags] RUN
       loadtest report [flags] FILE.bin [FILE.bin...]

Recomputes every level's metrics and vegeta reports of the run folder RUN (as
written by bench) from its raw results (<mode>/burst-N.bin), then writes
summary.md, summary.json and the plots again, and prints summary.md.

Given results files instead (the -out of loadtest attack on each of several
load hosts, all aimed at one server), merges them by send time into one
attack, as vegeta report does, and prints its reports as attack does (with
-out, writes them there too). The hosts' clocks must agree (NTP): the
makespan runs from the first send on any host to the last answer on any.`, stderr)
	quiet := fs.Bool("q", false, "do not print summary.md")
	out := fs.String("out", "", "merging: `folder` to write the merged results and reports into")
	format := fs.String("format", "text", "merging: text (vegeta's report and ours) or json (our metrics)")
	capacity := fs.Int("capacity", 0, "merging: jobs the server runs at once, for the ideal makespan (0: not computed)")
	s := fs.Duration("calibration", 0, "merging: time of one job (S), for the ideal makespan (0: not computed)")
	return command{fs: fs, run: func(_ context.Context, args []string) error {
		if len(args) > 0 && allResultsFiles(args) {
			return mergeReport(stdout, stderr, args, *out, *format, loadtest.Params{Capacity: *capacity}, *s)
		}
		if len(args) != 1 {
			return usagef("want one run folder or results files (.bin), got %d arguments", len(args))
		}
		if _, err := report.RerenderWith(args[0], trial.ModeNames()); err != nil {
			return err
		}
		path := filepath.Join(args[0], runfolder.FileSummaryMD)
		fmt.Fprintf(stderr, "report: wrote %s, %s and plots\n", path, runfolder.FileSummaryJSON)
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

// resultsExt names a results file (vegeta's binary encoding).
const resultsExt = ".bin"

// allResultsFiles reports whether every arg names a results file.
func allResultsFiles(args []string) bool {
	for _, a := range args {
		if !strings.HasSuffix(a, resultsExt) {
			return false
		}
	}
	return true
}

// mergeReport merges the results files of several load hosts and reports
// them as one attack.
func mergeReport(stdout, stderr io.Writer, files []string, out, format string, p loadtest.Params, s time.Duration) error {
	if format != "text" && format != "json" {
		return usagef("-format %q: want text or json", format)
	}
	rs, err := loadtest.MergeResults(files...)
	if err != nil {
		return err
	}
	if len(rs) == 0 {
		return fmt.Errorf("no results in %s", strings.Join(files, ", "))
	}
	m := loadtest.Compute(rs, p)
	if out != "" {
		name := "merged"
		if err := loadtest.WriteLevel(out, name, rs, m); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "report: merged %d results from %d files into %s/%s.{bin,txt,json,hdr.txt,metrics.json}\n", len(rs), len(files), out, name)
	}
	return printAttack(stdout, format, loadtest.VegetaMetrics(rs), m, s)
}
