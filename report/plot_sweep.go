package report

import (
	"fmt"
	"path/filepath"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"

	"github.com/flipbench/flipbench/runfolder"
)

// sweepPlotName is the throughput plot of sweep of.
func sweepPlotName(of string) string { return "sweep-" + of + ".svg" }

// sweepSpeedupPlotName is the speedup plot of sweep of.
func sweepSpeedupPlotName(of string) string { return "sweep-" + of + "-speedup.svg" }

// isSweepPlot reports whether file is one of sweepPlots', which the sweeps
// section links.
func isSweepPlot(file string) bool { return strings.HasPrefix(file, "sweep-") }

// sweepPlots draws, for each sweep of the run, throughput and speedup
// against the value at each burst size, each with its ideal dashed:
// min(value, cores) × the baseline's.
func sweepPlots(dir string, sum *runfolder.Summary) ([]string, error) {
	f := runfolder.FiguresOf(sum)
	var files []string
	for _, s := range sweepsOf(sum) {
		for _, speedup := range []bool{false, true} {
			name, err := sweepPlot(dir, sum, f, s, speedup)
			if err != nil {
				return files, err
			}
			files = append(files, name)
		}
	}
	return files, nil
}

// sweepPlot draws one of sweepPlots' files.
func sweepPlot(dir string, sum *runfolder.Summary, f *runfolder.Figures, s sweep, speedup bool) (string, error) {
	name, what := sweepPlotName(s.Of), "successful answers / s"
	if speedup {
		name, what = sweepSpeedupPlotName(s.Of), "speedup over "+sum.BaselineName()
	}
	p := NewPlot(fmt.Sprintf("%s: %s against {%s} (median over the rounds)", s.Of, what, s.Key), s.Key, what)
	leg := plot.NewLegend()
	cores := sum.Env.Cores
	for i, n := range sum.Levels {
		base, haveBase := burstFigures(f, sum.BaselineName(), n)
		var got, ideal plotter.XYs
		for _, pt := range s.Points {
			bf, ok := burstFigures(f, pt.Mode, n)
			if !ok {
				continue
			}
			x := float64(pt.Value)
			switch {
			case speedup:
				got = append(got, plotter.XY{X: x, Y: bf.Speedup.Median})
				ideal = append(ideal, plotter.XY{X: x, Y: sweepIdeal(pt.Value, cores, 1)})
			default:
				got = append(got, plotter.XY{X: x, Y: bf.Throughput.Median})
				if haveBase {
					ideal = append(ideal, plotter.XY{X: x, Y: sweepIdeal(pt.Value, cores, base.Throughput.Median)})
				}
			}
		}
		if len(got) == 0 {
			continue
		}
		c := paletteColor(i)
		line, points, err := plotter.NewLinePoints(got)
		if err != nil {
			return name, fmt.Errorf("plot %s: %w", name, err)
		}
		line.Color, points.Color = c, c
		p.Add(line, points)
		leg.Add(fmt.Sprintf("N = %d", n), line, points)
		if len(ideal) > 0 {
			il, err := plotter.NewLine(ideal)
			if err != nil {
				return name, fmt.Errorf("plot %s: %w", name, err)
			}
			il.Color = darker(c, 0.6)
			il.Dashes, il.DashOffs = dashes(1, 0)
			p.Add(il)
			leg.Add(fmt.Sprintf("ideal, N = %d", n), il)
		}
	}
	return name, SavePlot(filepath.Join(dir, name), p, leg)
}
