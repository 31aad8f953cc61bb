package report

import (
	"fmt"
	"image/color"
	"path/filepath"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/flipbench/flipbench/runfolder"
)

// ratePlot is the name of the open-model sweep's plot.
const ratePlot = "rate-p99.svg"

// ratePlotCaption says what rate-p99.svg draws, for summary.md.
const ratePlotCaption = "p99 latency (from each request's scheduled send, log scale) against the offered arrival rate, per mode: " +
	"a point per step, the median over the rounds; dashed beside each mode in a darker shade, an ideal FIFO server's p99 " +
	"for the same arrivals (its capacity, the round's S). The knee is where the two part; the grey line is the SLO."

// ratePlotFile draws rate-p99.svg from the run's sweep figures in f; it
// returns "" when the run had no sweep.
func ratePlotFile(dir string, sum *runfolder.Summary, f *runfolder.Figures) (string, error) {
	figs := f.Rates
	if len(figs) == 0 {
		return "", nil
	}
	p := NewPlot("Open model: p99 latency against offered load (median over the rounds)", "offered arrivals / s", "p99 latency (s, log scale)")
	p.X.Tick.Marker = niceTicks{}
	p.Y.Scale, p.Y.Tick.Marker = plot.LogScale{}, plot.LogTicks{Prec: -1}
	leg := plot.NewLegend()
	order := sum.OrderNames()
	lo, hi, xmax := 0.0, 0.0, 0.0
	span := func(xy plotter.XYs) {
		for _, v := range xy {
			if lo == 0 || v.Y < lo {
				lo = v.Y
			}
			hi, xmax = max(hi, v.Y), max(xmax, v.X)
		}
	}
	for i, m := range sum.Modes {
		var measured, ideal plotter.XYs
		for _, f := range figs {
			if f.Mode != m.Mode || !(f.Offered.Median > 0) {
				continue
			}
			if f.P99.Median > 0 {
				measured = append(measured, plotter.XY{X: f.Offered.Median, Y: f.P99.Median})
			}
			if f.IdealP99.Median > 0 {
				ideal = append(ideal, plotter.XY{X: f.Offered.Median, Y: f.IdealP99.Median})
			}
		}
		if len(measured) == 0 {
			continue
		}
		c := ModeColor(order, m.Mode, i)
		line, points, err := plotter.NewLinePoints(measured)
		if err != nil {
			return "", fmt.Errorf("plot %s: mode %s: %w", ratePlot, m.Mode, err)
		}
		line.Color, line.Width = c, vg.Points(2)
		points.Color, points.Shape, points.Radius = c, draw.CircleGlyph{}, vg.Points(2.5)
		p.Add(line, points)
		leg.Add(m.Mode, line)
		span(measured)
		if len(ideal) > 0 {
			il, err := plotter.NewLine(ideal)
			if err != nil {
				return "", fmt.Errorf("plot %s: mode %s: %w", ratePlot, m.Mode, err)
			}
			il.Color, il.Width = darker(c, 0.75), vg.Points(1.2)
			il.Dashes, il.DashOffs = dashes(1, 0)
			p.Add(il)
			span(ideal)
		}
	}
	if slo := runfolder.RateSLO(sum); slo > 0 {
		y := slo.Seconds()
		line, err := plotter.NewLine(plotter.XYs{{X: 0, Y: y}, {X: xmax * 1.05, Y: y}})
		if err != nil {
			return "", fmt.Errorf("plot %s: %w", ratePlot, err)
		}
		line.Color, line.Width = color.Gray{Y: 0x80}, vg.Points(1.5)
		p.Add(line)
		leg.Add(fmt.Sprintf("SLO: p99 ≤ %s (%s)", secText(y), sum.Rate.SLO), line)
		lo, hi = min(lo, y), max(hi, y)
	}
	leg.Add(idealLabel(sum, f, "ideal FIFO p99"), idealKey())
	if lo > 0 {
		p.Y.Min, p.Y.Max = lo/1.5, hi*1.5
	}
	p.X.Min, p.X.Max = 0, xmax*1.05
	return ratePlot, SavePlot(filepath.Join(dir, ratePlot), p, leg)
}
