package report

import (
	"errors"
	"fmt"
	"image/color"
	"io/fs"
	"path/filepath"
	"slices"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/flipbench/flipbench/loadtest"
	"github.com/flipbench/flipbench/runfolder"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// answersPlot draws answers-<n>.svg: each mode's answers to the burst of n in
// the order they came back, read from the mode's burst-<n>.bin in dir, over
// the mode's ideal staircase dashed in the same color (none for a mode on
// another engine than S's: see f.NoIdeal). Modes without the file are left
// out; it returns "" when none has it.
func answersPlot(dir string, sum *runfolder.Summary, f *runfolder.Figures, modes []runfolder.ModeRun, n int) (string, error) {
	order := sum.OrderNames()
	name := fmt.Sprintf("answers-%d.svg", n)
	type modeAnswers struct {
		mode     string
		color    color.Color
		answers  plotter.XYs
		failed   int
		stairs   plotter.XYs // nil when S is unknown
		capacity int
		s        time.Duration
	}
	var drawn []modeAnswers
	for i, m := range modes {
		l, ok := m.Level(n)
		if !ok {
			continue
		}
		rs, err := loadtest.ReadResults(filepath.Join(dir, m.Mode, loadtest.BurstName(n)+loadtest.SuffixResults))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return "", fmt.Errorf("plot %s: mode %s: %w", name, m.Mode, err)
		}
		a := modeAnswers{mode: m.Mode, color: ModeColor(order, m.Mode, i), answers: answerLatencies(rs)}
		a.failed = len(rs) - len(a.answers)
		if a.capacity, a.s = levelIdeal(sum, m, l); a.s > 0 && len(rs) > 0 && f.HasIdeal(m.Mode) {
			a.stairs = idealStaircase(len(rs), a.capacity, a.s)
		}
		drawn = append(drawn, a)
	}
	if len(drawn) == 0 {
		return "", nil
	}

	p := NewPlot(fmt.Sprintf("Burst of %d requests: each answer's latency, in answer order", n),
		"answer rank (1 = first answer back)", "latency (s)")
	p.X.Tick.Marker = niceTicks{}
	leg := plot.NewLegend()
	top := 0.0
	for _, a := range drawn {
		line, err := plotter.NewLine(a.answers)
		if err != nil {
			return "", fmt.Errorf("plot %s: mode %s: %w", name, a.mode, err)
		}
		// Steps like the ideal's, so answers that came back together read as
		// one stair.
		line.StepStyle = plotter.MidStep
		line.Color, line.Width = a.color, vg.Points(2.5)
		p.Add(line)
		if len(a.answers) > 0 {
			top = max(top, a.answers[len(a.answers)-1].Y)
		}
		label := a.mode
		if a.failed > 0 {
			label += fmt.Sprintf(" (%d failed)", a.failed)
		}
		leg.Add(label, line)
	}
	// The ideals go on top, a shade darker: a mode on its ideal shows dashes
	// inside its line rather than hiding them.
	for i, a := range drawn {
		if a.stairs == nil {
			continue
		}
		// Modes of the same capacity share a staircase; their dashes take
		// turns along it so every color shows.
		var same, turn int
		for j, b := range drawn {
			if b.stairs != nil && b.capacity == a.capacity && b.s == a.s && len(b.stairs) == len(a.stairs) {
				if j < i {
					turn++
				}
				same++
			}
		}
		line, err := plotter.NewLine(a.stairs)
		if err != nil {
			return "", fmt.Errorf("plot %s: mode %s: %w", name, a.mode, err)
		}
		line.StepStyle = plotter.MidStep
		line.Color, line.Width = darker(a.color, 0.75), vg.Points(1.5)
		line.Dashes, line.DashOffs = dashes(same, turn)
		p.Add(line)
		top = max(top, a.stairs[len(a.stairs)-1].Y)
	}
	leg.Add(idealLabel(sum, f, "ideal FIFO"), idealKey())
	p.X.Min, p.X.Max = 0, float64(n)
	if top > 0 {
		p.Y.Max = top * 1.05
	}
	return name, SavePlot(filepath.Join(dir, name), p, leg)
}

// dashes returns the dash pattern and offset of the turn-th of same dashed
// lines drawn over each other: each line's dashes fill the others' gaps.
func dashes(same, turn int) ([]vg.Length, vg.Length) {
	const dash, gap = 5, 2.5
	return []vg.Length{vg.Points(dash), vg.Points(float64(same-1)*(dash+gap) + gap)}, vg.Points(float64(turn) * (dash + gap))
}

// idealStaircase returns the answers of a perfect FIFO server that runs
// capacity jobs of time s at once to a burst of n: the k-th answer (x = k,
// from 1) comes back at ceil(k / capacity) × s (y, in seconds).
func idealStaircase(n, capacity int, s time.Duration) plotter.XYs {
	xys := make(plotter.XYs, n)
	for k := 1; k <= n; k++ {
		xys[k-1].X = float64(k)
		xys[k-1].Y = loadtest.IdealMakespan(k, capacity, s).Seconds()
	}
	return xys
}

// answerLatencies returns the successful answers of rs in the order they
// came back: x is the rank (from 1), y the time from the burst's first send
// to the end of the answer, in seconds. That is vegeta's latency give or
// take the burst's send spread, and makes the last point the makespan, as
// the ideal staircase counts from the burst's start.
func answerLatencies(rs vegeta.Results) plotter.XYs {
	if len(rs) == 0 {
		return nil
	}
	start := rs[0].Timestamp
	for i := range rs {
		if rs[i].Timestamp.Before(start) {
			start = rs[i].Timestamp
		}
	}
	var ends []float64
	for i := range rs {
		r := &rs[i]
		if r.Code >= 200 && r.Code < 300 && r.Error == "" {
			ends = append(ends, r.End().Sub(start).Seconds())
		}
	}
	slices.Sort(ends)
	xys := make(plotter.XYs, len(ends))
	for k, e := range ends {
		xys[k] = plotter.XY{X: float64(k + 1), Y: e}
	}
	return xys
}

// idealKey is the legend's key for dashed ideal lines, in grey: each mode's
// own ideal is dashed in a darker shade of its colour.
func idealKey() *plotter.Line {
	l := &plotter.Line{LineStyle: plotter.DefaultLineStyle}
	l.Color, l.Width = color.Gray{Y: 0x40}, vg.Points(1.2)
	l.Dashes, l.DashOffs = dashes(1, 0)
	return l
}
