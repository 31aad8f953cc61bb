package hello

import (
	"cmp"
	"fmt"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/flipbench/flipbench/bench"
	"github.com/flipbench/flipbench/experiment"
	"github.com/flipbench/flipbench/report"
	"github.com/flipbench/flipbench/runfolder"
)

// helloPlot is the name of the hello run's plot.
const helloPlot = "hello-p99.svg"

// Write renders run into dir: the plot and summary.md.
func Write(dir string, run *Result) error {
	var plots []string
	ok, err := drawHello(filepath.Join(dir, helloPlot), run)
	if err != nil {
		return err
	}
	if ok {
		plots = append(plots, helloPlot)
	}
	if err := os.WriteFile(filepath.Join(dir, runfolder.FileSummaryMD), []byte(Render(run, plots)), 0o644); err != nil {
		return fmt.Errorf("write hello summary: %w", err)
	}
	return nil
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
	b.WriteString(experiment.LoadText(run.LoadBefore, run.LoadAfter, run.Cores))
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

// drawHello draws p99 against the rate, one line per mode, both axes on a
// log scale (the rate doubles per step; p99 jumps by orders when a mode
// saturates), with the bound across. It reports whether any mode had a step.
func drawHello(path string, run *Result) (bool, error) {
	p := report.NewPlot("GET / at a stepped-up rate: p99 latency by mode", "rate (requests / s, log scale)", "p99 latency (ms, log scale)")
	p.X.Scale, p.Y.Scale = plot.LogScale{}, plot.LogScale{}
	p.Y.Tick.Marker = plot.TickerFunc(logTicks125)
	var ticks []plot.Tick // one per rate stepped: log ticks would label only powers of ten
	leg := plot.NewLegend()
	lo, hi, ylo, yhi := 0.0, 0.0, run.Bound.D().Seconds()*1000, run.Bound.D().Seconds()*1000
	for i, m := range run.Modes {
		var pts plotter.XYs
		for j, s := range m.Steps {
			if j+1 < len(m.Steps) && m.Steps[j+1].Rate == s.Rate {
				continue // a failed try held again: the last try decided
			}
			y := max(s.P99.D().Seconds()*1000, 0.001) // a log axis has no 0
			pts = append(pts, plotter.XY{X: float64(s.Rate), Y: y})
			if !slices.ContainsFunc(ticks, func(t plot.Tick) bool { return t.Value == float64(s.Rate) }) {
				ticks = append(ticks, plot.Tick{Value: float64(s.Rate), Label: strconv.Itoa(s.Rate)})
			}
			lo, hi = minPos(lo, float64(s.Rate)), max(hi, float64(s.Rate))
			ylo, yhi = min(ylo, y), max(yhi, y)
		}
		if len(pts) == 0 {
			continue
		}
		l, sc, err := plotter.NewLinePoints(pts)
		if err != nil {
			return false, fmt.Errorf("plot %s: %w", filepath.Base(path), err)
		}
		c := report.ModeColor(bench.ModeNames(), m.Mode, i)
		l.LineStyle = draw.LineStyle{Color: c, Width: vg.Points(1.5)}
		sc.GlyphStyle = draw.GlyphStyle{Color: c, Radius: vg.Points(3), Shape: draw.CircleGlyph{}}
		p.Add(l, sc)
		leg.Add(fmt.Sprintf("%s (highest %d/s)", m.Mode, m.Highest), l, sc)
	}
	if hi == 0 {
		return false, nil
	}
	if hi == lo {
		lo, hi = lo/2, hi*2
	}
	bound, err := plotter.NewLine(plotter.XYs{{X: lo, Y: run.Bound.D().Seconds() * 1000}, {X: hi, Y: run.Bound.D().Seconds() * 1000}})
	if err != nil {
		return false, fmt.Errorf("plot %s: %w", filepath.Base(path), err)
	}
	bound.LineStyle = draw.LineStyle{Color: color.Gray{Y: 0x40}, Width: vg.Points(1.2), Dashes: []vg.Length{vg.Points(4), vg.Points(3)}}
	p.Add(bound)
	leg.Add(fmt.Sprintf("p99 bound %s", run.Bound), bound)
	p.X.Tick.Marker = plot.ConstantTicks(spaceLabels(ticks, 1.3))
	p.X.Min, p.X.Max = lo/1.2, hi*1.2
	p.Y.Min, p.Y.Max = ylo/1.5, yhi*1.5
	return true, report.SavePlot(path, p, leg)
}

// minPos is the smaller of a and b, where a 0 a stands for none yet.
func minPos(a, b float64) float64 {
	if a == 0 {
		return b
	}
	return min(a, b)
}

// logTicks125 labels a log axis at 1, 2 and 5 × 10^k: gonum's LogTicks
// labels only powers of ten, often one label on a p99 axis.
func logTicks125(lo, hi float64) []plot.Tick {
	var ticks []plot.Tick
	for e := math.Floor(math.Log10(lo)); e <= math.Ceil(math.Log10(hi)); e++ {
		for _, m := range []float64{1, 2, 5} {
			if v := m * math.Pow(10, e); v >= lo && v <= hi {
				ticks = append(ticks, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'g', -1, 64)})
			}
		}
	}
	return ticks
}

// spaceLabels sorts ticks and keeps the label of a tick only when its value
// is at least ratio times the last labelled one: on a log axis, labels of
// rates a small factor apart run into each other.
func spaceLabels(ticks []plot.Tick, ratio float64) []plot.Tick {
	slices.SortFunc(ticks, func(a, b plot.Tick) int { return cmp.Compare(a.Value, b.Value) })
	last := 0.0
	for i := range ticks {
		if last > 0 && ticks[i].Value < last*ratio {
			ticks[i].Label = ""
			continue
		}
		last = ticks[i].Value
	}
	return ticks
}
