package report

import (
	"fmt"
	"image/color"
	"path/filepath"
	"slices"

	"github.com/flipbench/flipbench/bench"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// Plot sizes.
const (
	plotWidth  = 7 * vg.Inch
	plotHeight = 4 * vg.Inch
)

// WritePlots draws the run's plots as SVG files in dir and returns their
// names: latency-<N>.svg (latency percentiles of every mode at burst N),
// throughput.svg (answers per second by mode and N) and speedup.svg
// (standard's makespan over each mode's, when standard ran).
//
// They are gonum/plot SVGs: static files that render in any browser and in
// Markdown on GitHub (unlike go-echarts' or vegeta's JavaScript HTML), drawn
// with a pure-Go library already in go.mod.
func WritePlots(dir string, sum *bench.Summary) ([]string, error) {
	var modes []bench.ModeRun
	for _, m := range sum.Modes {
		if len(m.Levels) > 0 {
			modes = append(modes, m)
		}
	}
	if len(modes) == 0 {
		return nil, nil
	}
	levels := slices.Clone(sum.Levels)
	slices.Sort(levels)
	var files []string

	for _, n := range levels {
		cats := []string{"first", "median", "p90", "p99", "last"}
		var series []barSeries
		for _, m := range modes {
			l, ok := m.Level(n)
			if !ok {
				continue
			}
			series = append(series, barSeries{name: m.Mode, values: []float64{
				l.FirstAnswer.D().Seconds(), l.Latency.Median.D().Seconds(), l.Latency.P90.D().Seconds(),
				l.Latency.P99.D().Seconds(), l.Makespan.D().Seconds(),
			}})
		}
		if len(series) == 0 {
			continue
		}
		name := fmt.Sprintf("latency-%d.svg", n)
		title := fmt.Sprintf("Burst of %d: latency from send (first answer … last answer)", n)
		if err := barPlot(filepath.Join(dir, name), title, "seconds", cats, series); err != nil {
			return files, err
		}
		files = append(files, name)
	}

	cats := make([]string, len(levels))
	for i, n := range levels {
		cats[i] = fmt.Sprintf("N = %d", n)
	}
	var thr, spd []barSeries
	_, haveStd := sum.Mode(bench.CalibrationMode)
	for _, m := range modes {
		t := barSeries{name: m.Mode}
		s := barSeries{name: m.Mode}
		for _, n := range levels {
			l, _ := m.Level(n)
			t.values = append(t.values, l.Throughput)
			s.values = append(s.values, speedup(sum, l))
		}
		thr = append(thr, t)
		spd = append(spd, s)
	}
	if err := barPlot(filepath.Join(dir, "throughput.svg"), "Throughput: successful answers per second of makespan", "answers / s", cats, thr); err != nil {
		return files, err
	}
	files = append(files, "throughput.svg")
	if haveStd {
		if err := barPlot(filepath.Join(dir, "speedup.svg"), "Speedup over standard (throughput / standard's throughput)", "×", cats, spd); err != nil {
			return files, err
		}
		files = append(files, "speedup.svg")
	}
	return files, nil
}

// barSeries is one mode's bars, one per category.
type barSeries struct {
	name   string
	values []float64
}

// barPlot draws grouped bars: one group per category, one bar per series.
func barPlot(path, title, ylabel string, cats []string, series []barSeries) error {
	p := plot.New()
	p.Title.Text = title
	p.Y.Label.Text = ylabel
	p.Y.Min = 0
	p.Legend.Top = true
	p.Legend.Left = true
	p.Add(plotter.NewGrid())

	// Each category gets about 1/len(cats) of the width; its bars fill 80% of it.
	unit := float64(plotWidth) * 0.85 / float64(max(1, len(cats)))
	width := min(vg.Length(unit*0.8/float64(max(1, len(series)))), vg.Points(40))
	top := 0.0
	for i, s := range series {
		vals := make(plotter.Values, len(s.values))
		copy(vals, s.values)
		for _, v := range s.values {
			top = max(top, v)
		}
		bars, err := plotter.NewBarChart(vals, width)
		if err != nil {
			return fmt.Errorf("plot %s: %w", filepath.Base(path), err)
		}
		bars.LineStyle.Width = 0
		bars.Color = modeColor(s.name, i)
		bars.Offset = vg.Length(float64(i)-float64(len(series)-1)/2) * width
		p.Add(bars)
		p.Legend.Add(s.name, bars)
	}
	p.NominalX(cats...)
	// Room for the outer bars at both ends, and for the legend above the bars.
	p.X.Min, p.X.Max = -0.5, float64(len(cats))-0.5
	if top > 0 {
		p.Y.Max = top * (1.15 + 0.07*float64(len(series)))
	}
	if err := p.Save(plotWidth, plotHeight, path); err != nil {
		return fmt.Errorf("plot %s: %w", filepath.Base(path), err)
	}
	return nil
}

// modeColor gives each known mode the same color in every plot.
func modeColor(mode string, i int) color.Color {
	if j := slices.Index(bench.ModeNames(), mode); j >= 0 {
		return plotutil.Color(j)
	}
	return plotutil.Color(len(bench.ModeNames()) + i)
}
