package hello

import (
	"cmp"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"

	"github.com/flipbench/flipbench/experiment"
	"github.com/flipbench/flipbench/report"
)

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
		c := experiment.ModeColor(m.Mode, i)
		l.LineStyle, sc.GlyphStyle = experiment.ModeLine(c), experiment.Dots(c)
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
	bound.LineStyle = experiment.RefLine(4, 3)
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
