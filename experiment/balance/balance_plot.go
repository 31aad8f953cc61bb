package balance

import (
	"fmt"
	"path/filepath"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"

	"github.com/flipbench/flipbench/experiment"
	"github.com/flipbench/flipbench/report"
)

// balancePlots draws balance-ratio.svg (flip: makespan / ideal of every
// run) and balance-split.svg (the busiest worker's share of every run; on
// the hello target, the two busiest workers'), one column of dots per
// policy and size.
func balancePlots(dir string, run *Result) ([]string, error) {
	var files []string
	if run.Target == TargetFlip {
		name := "balance-ratio.svg"
		err := dotPlot(filepath.Join(dir, name), run, "Makespan / ideal of every burst, by policy and size",
			"makespan / ideal", func(t Trial) float64 { return t.Ratio },
			[]refLine{{"ideal", 1}, {fmt.Sprintf("%.1f × ideal", WithinIdeal), WithinIdeal}})
		if err != nil {
			return files, err
		}
		files = append(files, name)
	}
	k, what := 1, "busiest worker's"
	if run.Target == TargetHello {
		k, what = 2, "two busiest workers'"
	}
	workers := 0
	for _, p := range run.Policies {
		workers = max(workers, p.Spec.Workers)
	}
	var refs []refLine
	if workers > k {
		refs = []refLine{{"an even split", float64(k) / float64(workers)}}
	}
	name := "balance-split.svg"
	err := dotPlot(filepath.Join(dir, name), run, fmt.Sprintf("The %s share of every burst's answers, by policy and size", what),
		"share of answers", func(t Trial) float64 { return t.TopShare(k) }, refs)
	if err != nil {
		return files, err
	}
	return append(files, name), nil
}

// refLine is a horizontal line across a plot, named in its legend.
type refLine struct {
	name string
	y    float64
}

// dotPlot draws value of every trial as a dot, one column per policy and
// size, in the policy mode's color; dots of one column are spread sideways
// by run so equal values stay visible.
func dotPlot(path string, run *Result, title, ylabel string, value func(Trial) float64, refs []refLine) error {
	p := report.NewPlot(title, "policy, burst size", ylabel)
	leg := plot.NewLegend()
	var cats []string
	top := 0.0
	for i, pr := range run.Policies {
		var pts plotter.XYs
		for _, n := range run.Sizes {
			col := float64(len(cats))
			found := false
			for _, t := range pr.Trials {
				if t.Size != n {
					continue
				}
				found = true
				v := value(t)
				top = max(top, v)
				jitter := (float64((t.Run-1)%run.Runs)/float64(max(run.Runs-1, 1)) - 0.5) * 0.5
				pts = append(pts, plotter.XY{X: col + jitter, Y: v})
			}
			if found {
				cats = append(cats, fmt.Sprintf("%s\nN = %d", pr.Balance, n))
			}
		}
		if len(pts) == 0 {
			continue
		}
		sc, err := plotter.NewScatter(pts)
		if err != nil {
			return fmt.Errorf("plot %s: %w", filepath.Base(path), err)
		}
		sc.GlyphStyle = experiment.Dots(experiment.ModeColor(pr.Mode, i))
		p.Add(sc)
		leg.Add(pr.Balance+" ("+pr.Mode+")", sc)
	}
	if len(cats) == 0 {
		return nil
	}
	for j, r := range refs {
		top = max(top, r.y)
		l, err := plotter.NewLine(plotter.XYs{{X: -0.5, Y: r.y}, {X: float64(len(cats)) - 0.5, Y: r.y}})
		if err != nil {
			return fmt.Errorf("plot %s: %w", filepath.Base(path), err)
		}
		// The first line solid, the others dashed, so the legend tells them apart.
		l.LineStyle = experiment.RefLine()
		if j > 0 {
			l.LineStyle = experiment.RefLine(5, 3)
		}
		p.Add(l)
		leg.Add(r.name, l)
	}
	p.NominalX(cats...)
	p.X.Min, p.X.Max = -0.5, float64(len(cats))-0.5
	p.Y.Max = top * 1.08
	return report.SavePlot(path, p, leg)
}
