package report

import (
	"cmp"
	"fmt"
	"image/color"
	"math"
	"path/filepath"
	"slices"
	"time"

	"github.com/flipbench/flipbench/internal/stats"
	"github.com/flipbench/flipbench/loadtest"
	"github.com/flipbench/flipbench/runfolder"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// latencyPlot draws latency-<n>.svg: the latency statistics of every mode
// that ran a burst of n, each bar crossed by what a perfect FIFO server of
// the mode's capacity would have measured (modes on another engine than
// S's have none: see f.NoIdeal). It returns "" when no mode ran n.
func latencyPlot(dir string, sum *runfolder.Summary, f *runfolder.Figures, modes []runfolder.ModeRun, n int) (string, error) {
	order := sum.OrderNames()
	cats := []string{"first answer", "median", "p99", "last answer"}
	// The ranks of the answers the statistics pick (nearest rank, as
	// loadtest.Percentile); 0 stands for the first and -1 for the last.
	quantiles := []float64{0, 0.5, 0.99, -1}
	var series []barSeries
	for i, m := range modes {
		l, ok := m.Level(n)
		bf, okf := burstFigures(f, m.Mode, n)
		if !ok || !okf {
			continue
		}
		s := barSeries{name: m.Mode, color: ModeColor(order, m.Mode, i)}
		for _, iv := range []stats.Interval{bf.FirstAnswer, bf.Median, bf.P99, bf.Makespan} {
			s.add(iv)
		}
		if capacity, step := levelIdeal(sum, m, l); step > 0 && f.HasIdeal(m.Mode) {
			for _, q := range quantiles {
				k := max(1, int(math.Ceil(q*float64(l.Requests))))
				if q < 0 {
					k = l.Requests
				}
				s.ideals = append(s.ideals, loadtest.IdealMakespan(k, capacity, step).Seconds())
			}
		}
		series = append(series, s)
	}
	if len(series) == 0 {
		return "", nil
	}
	name := fmt.Sprintf("latency-%d.svg", n)
	title := fmt.Sprintf("Burst of %d requests: latency of the answers, by mode (median over the rounds)", n)
	return name, barPlot(filepath.Join(dir, name), title, "statistic of the burst's latencies", "latency (s)", idealLabel(sum, f, "ideal"), cats, series)
}

// levelIdeal returns the capacity and S the ideal of m's first-round burst
// l is counted in (its metrics' capacity, else the mode's; its round's S);
// S is 0 when unknown.
func levelIdeal(sum *runfolder.Summary, m runfolder.ModeRun, l loadtest.Metrics) (int, time.Duration) {
	capacity := cmp.Or(l.Capacity, m.Capacity)
	if capacity <= 0 {
		return 0, 0
	}
	return capacity, sum.TrialS(m.Trial)
}

// levelPlots draws throughput.svg and, when standard ran, speedup.svg: one
// group of bars per burst size.
func levelPlots(dir string, sum *runfolder.Summary, f *runfolder.Figures, modes []runfolder.ModeRun, levels []int) ([]string, error) {
	cats := make([]string, len(levels))
	for i, n := range levels {
		cats[i] = fmt.Sprintf("N = %d", n)
	}
	std, haveStd := sum.Mode(sum.BaselineName())
	var thr, spd []barSeries
	for i, m := range modes {
		t := barSeries{name: m.Mode, color: ModeColor(sum.OrderNames(), m.Mode, i)}
		s := barSeries{name: m.Mode, color: t.color}
		for _, n := range levels {
			l, _ := m.Level(n)
			bf, _ := burstFigures(f, m.Mode, n)
			t.add(bf.Throughput)
			s.add(bf.Speedup)
			idealThr, idealSpd := 0.0, 0.0
			// A mode on another engine than S's has no ideal: S is not
			// its job's time.
			if f.HasIdeal(m.Mode) {
				idealThr, idealSpd = levelIdeals(sum, m, std, l)
			}
			t.ideals = append(t.ideals, idealThr)
			s.ideals = append(s.ideals, idealSpd)
		}
		thr = append(thr, t)
		spd = append(spd, s)
	}
	var files []string
	if err := barPlot(filepath.Join(dir, "throughput.svg"), "Throughput: successful answers per second of makespan (median over the rounds)",
		"burst size", "answers / s", idealLabel(sum, f, "ideal"), cats, thr); err != nil {
		return files, err
	}
	files = append(files, "throughput.svg")
	if haveStd {
		if err := barPlot(filepath.Join(dir, "speedup.svg"), fmt.Sprintf("Speedup over %[1]s: throughput / %[1]s's in the same round (median)", sum.BaselineName()),
			"burst size", "speedup (×)", idealLabel(sum, f, "ideal"), cats, spd); err != nil {
			return files, err
		}
		files = append(files, "speedup.svg")
	}
	return files, nil
}

// levelIdeals returns the ideal throughput of m at the level l and its
// ideal speedup over std (0: unknown).
func levelIdeals(sum *runfolder.Summary, m, std runfolder.ModeRun, l loadtest.Metrics) (thr, spd float64) {
	if ideal := sum.BurstIdeal(m.Trial, l).Makespan; ideal > 0 {
		thr = float64(l.Requests) / ideal.Seconds()
	}
	if capacity, _ := levelIdeal(sum, m, l); capacity > 0 && std.Capacity > 0 && l.Requests > 0 {
		// Standard's ideal makespan over this mode's: S cancels, so it is
		// counted in whole steps.
		spd = float64(loadtest.IdealMakespan(l.Requests, std.Capacity, time.Second)) /
			float64(loadtest.IdealMakespan(l.Requests, capacity, time.Second))
	}
	return thr, spd
}

// barSeries is one mode's bars, one per category, the ideal of each (0
// where there is none) and the whiskers of its interval (lo = hi: none),
// in the mode's color.
type barSeries struct {
	name   string
	color  color.Color
	values []float64
	ideals []float64
	lo, hi []float64
}

// add appends a bar of iv's median with iv's interval as its whiskers.
func (s *barSeries) add(iv stats.Interval) {
	s.values, s.lo, s.hi = append(s.values, iv.Median), append(s.lo, iv.Lo), append(s.hi, iv.Hi)
}

// burstFigures returns the figures of mode's burst of n.
func burstFigures(f *runfolder.Figures, mode string, n int) (runfolder.BurstFigures, bool) {
	for _, b := range f.Bursts {
		if b.Mode == mode && b.Level == n {
			return b, true
		}
	}
	return runfolder.BurstFigures{}, false
}

// barPlot draws grouped bars: one group per category, one bar per series,
// each series' ideals as marks across its bars, named idealLabel in the
// legend.
func barPlot(path, title, xlabel, ylabel, idealLabel string, cats []string, series []barSeries) error {
	p := NewPlot(title, xlabel, ylabel)
	leg := plot.NewLegend()
	var (
		bars  []*plotter.BarChart
		marks []*idealMarks
	)
	top := 0.0
	for _, s := range series {
		for _, vs := range [][]float64{s.values, s.ideals, s.hi} {
			for _, v := range vs {
				top = max(top, v)
			}
		}
		b, err := plotter.NewBarChart(plotter.Values(s.values), 1) // width set below
		if err != nil {
			return fmt.Errorf("plot %s: %w", filepath.Base(path), err)
		}
		b.LineStyle.Width = 0
		b.Color = s.color
		bars = append(bars, b)
		leg.Add(s.name, b)
		if slices.ContainsFunc(s.ideals, func(v float64) bool { return v > 0 }) {
			marks = append(marks, &idealMarks{values: s.ideals, color: darker(s.color, 0.6)})
		} else {
			marks = append(marks, nil)
		}
	}
	if slices.ContainsFunc(marks, func(m *idealMarks) bool { return m != nil }) {
		leg.Add(idealLabel, idealThumb{})
	}

	// Each category gets 1/len(cats) of the data area (the width less the
	// legend's column and about an inch of y axis); its bars fill 80% of it.
	unit := float64(plotWidth-legendWidth(leg)-vg.Inch) / float64(max(1, len(cats)))
	width := min(vg.Length(unit*0.8/float64(max(1, len(series)))), vg.Points(48))
	for i, b := range bars {
		b.Width = width
		b.Offset = vg.Length(float64(i)-float64(len(series)-1)/2) * width
		p.Add(b)
		if m := marks[i]; m != nil {
			m.offset, m.width = b.Offset, width
			p.Add(m)
		}
		if s := series[i]; len(s.lo) > 0 {
			p.Add(&whiskers{lo: s.lo, hi: s.hi, offset: b.Offset, width: width})
		}
	}
	p.NominalX(cats...)
	// Room for the outer bars at both ends.
	p.X.Min, p.X.Max = -0.5, float64(len(cats))-0.5
	if top > 0 {
		p.Y.Max = top * 1.08
	}
	return SavePlot(path, p, leg)
}

// idealMarks draws a series' ideals as thick dark strokes across its bars,
// on a white halo so they show on the bar and above it alike.
type idealMarks struct {
	values        []float64 // per category; 0: none
	offset, width vg.Length // of the series' bars
	color         color.Color
}

// Plot implements plot.Plotter.
func (m *idealMarks) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	for j, v := range m.values {
		if v <= 0 {
			continue
		}
		x, y := trX(float64(j))+m.offset, trY(v)
		halo := draw.LineStyle{Color: color.White, Width: vg.Points(4.5)}
		c.StrokeLine2(halo, x-m.width/2, y, x+m.width/2, y)
		c.StrokeLine2(draw.LineStyle{Color: m.color, Width: vg.Points(2.5)}, x-m.width/2, y, x+m.width/2, y)
	}
}

// idealThumb is the legend's picture of an ideal mark: a grey bar crossed
// by a dark stroke.
type idealThumb struct{}

// Thumbnail implements plot.Thumbnailer.
func (idealThumb) Thumbnail(c *draw.Canvas) {
	c.FillPolygon(color.Gray{Y: 0xc8}, c.ClipPolygonY([]vg.Point{
		c.Min, {X: c.Min.X, Y: c.Max.Y}, c.Max, {X: c.Max.X, Y: c.Min.Y},
	}))
	y := c.Min.Y + (c.Max.Y-c.Min.Y)*0.6
	c.StrokeLine2(draw.LineStyle{Color: color.White, Width: vg.Points(4.5)}, c.Min.X, y, c.Max.X, y)
	c.StrokeLine2(draw.LineStyle{Color: color.Gray{Y: 0x30}, Width: vg.Points(2.5)}, c.Min.X, y, c.Max.X, y)
}

// whiskers draws each bar's interval as a thin black line with caps.
type whiskers struct {
	lo, hi        []float64 // per category; lo = hi: none
	offset, width vg.Length // of the series' bars
}

// Plot implements plot.Plotter.
func (w *whiskers) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	line := draw.LineStyle{Color: color.Black, Width: vg.Points(1.2)}
	for j := range w.lo {
		if w.hi[j] <= w.lo[j] {
			continue
		}
		x, tick := trX(float64(j))+w.offset, w.width/4
		lo, hi := trY(w.lo[j]), trY(w.hi[j])
		c.StrokeLine2(line, x, lo, x, hi)
		c.StrokeLine2(line, x-tick, lo, x+tick, lo)
		c.StrokeLine2(line, x-tick, hi, x+tick, hi)
	}
}
