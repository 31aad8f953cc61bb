package hello

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/flipbench/flipbench/experiment"
	"github.com/flipbench/flipbench/report"
	"github.com/flipbench/flipbench/runfolder"
)

// helloPlot is the name of the hello run's plot.
const helloPlot = "hello-p99.svg"

// Write renders run into dir, the plot and summary.md, and returns what
// summary.md says.
func Write(dir string, run *Result) (string, error) {
	var plots []string
	ok, err := drawHello(filepath.Join(dir, helloPlot), run)
	if err != nil {
		return "", err
	}
	if ok {
		plots = append(plots, helloPlot)
	}
	md := Render(run, plots)
	if err := os.WriteFile(filepath.Join(dir, runfolder.FileSummaryMD), []byte(md), 0o644); err != nil {
		return md, fmt.Errorf("write hello summary: %w", err)
	}
	return md, nil
}

// Render returns the hello run's summary.md, showing plots.
func Render(run *Result, plots []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Dispatch cost: GET / (hello world) at a stepped-up rate (%s)\n\n", run.Run)
	fmt.Fprintf(&b, "Each mode holds `GET /` (the pid) at %d requests/s, then × %g per step, %s a step (an open model: "+
		"requests are due on schedule whatever the answers), until a step's p99 passes %s, a request fails, "+
		"the driver cannot send the rate (below %.0f%% of it), or the next step passes %d requests/s; "+
		"a rate that fails is held again, up to %d times in all, before its failure counts. "+
		"Every request is on a fresh connection. The highest sustained rate is the last step that passed. "+
		"The driver runs on the same cores as the server.\n\n",
		run.StartRate, run.Factor, run.Step, run.Bound, 100*minSentShare, run.MaxRate, max(run.Tries, 1))
	b.WriteString(run.LoadText())
	var noise []runfolder.NamedNoise
	for _, m := range run.Modes {
		noise = append(noise, runfolder.NamedNoise{Name: m.Mode, Noise: m.Noise})
	}
	report.WriteNoise(&b, runfolder.SummarizeNoise(noise))
	b.WriteString("| mode | highest sustained rate (req/s) | steps ended | p50 at the highest | p99 at the highest |\n|---|---:|---|---:|---:|\n")
	for _, m := range run.Modes {
		if m.Skipped != "" {
			fmt.Fprintf(&b, "| %s | – | skipped: %s | | |\n", m.Mode, m.Skipped)
			continue
		}
		p50, p99 := "–", "–"
		for _, s := range m.Steps {
			if s.Rate == m.Highest && s.Fail == "" {
				p50, p99 = s.P50.String(), s.P99.String()
			}
		}
		fmt.Fprintf(&b, "| %s | %d | %s | %s | %s |\n", m.Mode, m.Highest, m.Stop, p50, p99)
	}
	b.WriteString("\nEvery step:\n\n| mode | rate (req/s) | try | sent (req/s) | ok | p50 | p99 | max | workers | |\n|---|---:|---:|---:|---:|---:|---:|---:|---|---|\n")
	for _, m := range run.Modes {
		for _, s := range m.Steps {
			verdict := "within"
			if s.Fail != "" {
				verdict = s.Fail
			}
			fmt.Fprintf(&b, "| %s | %d | %d | %.0f | %d/%d | %s | %s | %s | %d | %s |\n", m.Mode, s.Rate, s.Try, s.Sent, s.Successes, s.Requests, s.P50, s.P99, s.Max, len(s.Workers), verdict)
		}
	}
	var problems []string
	for _, m := range run.Modes {
		for _, p := range m.Problems {
			problems = append(problems, fmt.Sprintf("- %s: %s", m.Mode, p))
		}
	}
	experiment.WriteTail(&b, problems, plots, "Per step raw results: <mode>/rate-<R>.bin (vegeta report reads them), with vegeta's reports and our metrics beside.")
	return b.String()
}
