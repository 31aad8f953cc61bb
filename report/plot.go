package report

import (
	"fmt"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/flipbench/flipbench/runfolder"
)

// Plot sizes. The legend takes a column at the right of the width.
const (
	plotWidth  = 8 * vg.Inch
	plotHeight = 4.5 * vg.Inch
	legendGap  = 12 // points between the data area and the legend column
	titleInset = 6  // points from the left edge to a title wider than its column
)

// WritePlots draws the run's plots as SVG files in dir and returns their
// names, in the order summary.md shows them:
//   - latency-<N>.svg: first answer, median, p90, p99 and last answer of every
//     mode at burst N, with each mode's ideal marked across its bars;
//   - answers-<N>.svg: every answer of burst N in answer order, against each
//     mode's ideal staircase (read from the modes' burst-N.bin in dir; modes
//     without one are left out);
//   - throughput.svg: answers per second by mode and N, with the ideal;
//   - speedup.svg: standard's makespan over each mode's, with the ideal (when
//     standard ran);
//   - keepalive.svg: answers per second by mode and keep-alive client count
//     C, with each figure's interval as whiskers (when the run had keep-alive
//     clients; summary.md shows it in the keep-alive section).
//
// A mode on another image library than the one S was measured on has no
// ideal in any of them (runfolder.Figures.NoIdeal).
//
// They are gonum/plot SVGs: static files that render in any browser and in
// Markdown on GitHub (unlike go-echarts' or vegeta's JavaScript HTML), drawn
// with a pure-Go library already in go.mod.
func WritePlots(dir string, sum *runfolder.Summary) ([]string, error) {
	f := runfolder.FiguresOf(sum)
	var modes []runfolder.ModeRun
	for _, m := range sum.Modes {
		if len(m.Levels) > 0 {
			modes = append(modes, m)
		}
	}
	if len(modes) == 0 {
		return withRatePlot(dir, sum, f, nil, nil)
	}
	levels := slices.Clone(sum.Levels)
	slices.Sort(levels)
	var files []string
	for _, n := range levels {
		name, err := latencyPlot(dir, sum, f, modes, n)
		if err != nil {
			return files, err
		}
		if name != "" {
			files = append(files, name)
		}
		name, err = answersPlot(dir, sum, f, modes, n)
		if err != nil {
			return files, err
		}
		if name != "" {
			files = append(files, name)
		}
	}
	more, err := levelPlots(dir, sum, f, modes, levels)
	files = append(files, more...)
	if err != nil {
		return files, err
	}
	name, err := keepAlivePlotFile(dir, sum)
	if name != "" {
		files = append(files, name)
	}
	if err != nil {
		return files, err
	}
	more, err = sweepPlots(dir, sum)
	return withRatePlot(dir, sum, f, append(files, more...), err)
}

// withRatePlot adds the open-model sweep's plot to files, unless err
// already ended the plotting.
func withRatePlot(dir string, sum *runfolder.Summary, f *runfolder.Figures, files []string, err error) ([]string, error) {
	if err != nil {
		return files, err
	}
	name, err := ratePlotFile(dir, sum, f)
	if name != "" {
		files = append(files, name)
	}
	return files, err
}

// NewPlot returns an empty plot in the house style: title, axis labels, a
// grid, and value ticks close enough to read a bar's height off the axis.
func NewPlot(title, xlabel, ylabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.Padding = vg.Points(10)
	p.X.Label.Text = xlabel
	p.Y.Label.Text = ylabel
	p.Y.Tick.Marker = niceTicks{}
	p.Y.Min = 0
	p.Add(plotter.NewGrid())
	return p
}

// SavePlot writes p as an SVG at path with leg in a column to the right of
// the data area: outside it, the legend can cover no bar or line whatever
// the data.
func SavePlot(path string, p *plot.Plot, leg plot.Legend) error {
	c := vgsvg.New(plotWidth, plotHeight)
	dc := draw.New(c)
	// The plot paints only its own area white; the legend column would be
	// transparent, and its black text lost on a dark page.
	dc.SetColor(color.White)
	dc.Fill(dc.Rectangle.Path())
	leg.Top, leg.Left = true, true
	area := draw.Crop(dc, 0, -legendWidth(leg), 0, 0)
	if t := p.Title; t.Text != "" && t.TextStyle.Rectangle(t.Text).Size().X > area.Size().X {
		// Centred over a column a wide legend narrowed, the title would start
		// off the canvas: it starts at the canvas's left edge instead, and
		// the plot goes below it as below its own title.
		sty := t.TextStyle
		sty.XAlign = draw.XLeft
		dc.FillText(sty, vg.Point{X: dc.Min.X + titleInset, Y: dc.Max.Y + sty.FontExtents().Descent}, t.Text)
		area.Max.Y -= sty.Rectangle(t.Text).Size().Y + t.Padding
		p.Title.Text = ""
		defer func() { p.Title.Text = t.Text }()
	}
	p.Draw(area)
	legArea := dc
	legArea.Min.X = area.Max.X + legendGap
	legArea.Max.Y = p.DataCanvas(area).Max.Y // top-aligned with the data
	leg.Draw(legArea)

	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("plot %s: %w", filepath.Base(path), err)
	}
	if _, err := c.WriteTo(f); err != nil {
		f.Close()
		return fmt.Errorf("plot %s: %w", filepath.Base(path), err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("plot %s: %w", filepath.Base(path), err)
	}
	return nil
}

// legendWidth returns the width of leg's column, the gap to the data area
// included; 0 for an empty legend. It allows a quarter more than the
// legend's own measure: the SVG names its font (Liberation Serif) without
// embedding it, and where that is missing the viewer's stand-in (DejaVu
// Serif, say) is wider.
func legendWidth(leg plot.Legend) vg.Length {
	w := leg.Rectangle(draw.Canvas{}).Size().X
	if w == 0 {
		return 0
	}
	return w*1.25 + legendGap
}

// ModeColor gives each mode of order (every mode the runner knew, in report
// order) the same color in every plot, by its place there; other modes get
// the colors after those, by i.
func ModeColor(order []string, mode string, i int) color.Color {
	if j := slices.Index(order, mode); j >= 0 {
		return paletteColor(j)
	}
	return paletteColor(len(order) + i)
}

// paletteColor returns the i-th of twenty colours, one per mode of the
// runner's order with room to spare; it wraps after twenty. The first ten
// are matplotlib's tab10, ordered so the first seven (one per mode) stay
// apart in hue and lightness, as older plots drew them. The next ten are
// taken from tab20 and tab20b so that none repeats a hue of the ten before
// at a lightness close to it: the engine modes (vips-*, node-sharp-*) get
// colours of their own instead of wrapping onto the first modes'. Every
// pair of the twenty is at least 20 apart in CIELAB (ΔE*76), as far as
// tab10's own closest pair (pink and purple, 28) nearly.
func paletteColor(i int) color.Color {
	rgb := [...]uint32{
		0xd62728, // red: standard
		0x2ca02c, // green: threaded
		0x1f77b4, // blue: clustered
		0xff7f0e, // orange: shared
		0x9467bd, // purple: queued
		0x8c564b, // brown: node-standard
		0xe377c2, // pink: node-cluster
		0x7f7f7f, // grey: node-cluster-none
		0xbcbd22, // olive: rr
		0x17becf, // cyan: none
		0x7b4173, // plum: node-sharp-cluster-1t
		0x98df8a, // light green: node-sharp-standard
		0xaec7e8, // light blue: vips-standard
		0xe7ba52, // gold: vips-shared
		0x393b79, // navy: node-sharp-cluster
		0xff9896, // salmon
		0x637939, // moss
		0xe7cb94, // sand
		0x54278f, // indigo
		0x3b3b3b, // charcoal
	}
	v := rgb[i%len(rgb)]
	return color.RGBA{R: uint8(v >> 16), G: uint8(v >> 8), B: uint8(v), A: 0xff}
}

// darker returns c with its red, green and blue scaled by f (0 < f < 1).
func darker(c color.Color, f float64) color.Color {
	r, g, b, a := c.RGBA()
	scale := func(v uint32) uint8 { return uint8(float64(v>>8) * f) }
	return color.RGBA{R: scale(r), G: scale(g), B: scale(b), A: uint8(a >> 8)}
}

// niceTicks labels an axis every 1, 2, 2.5 or 5 × 10^k, five to ten labels
// over the range, with unlabelled ticks between: gonum's default ticker
// labels as few as two values (a speedup axis read 0 and 2.5 only).
type niceTicks struct{}

// Ticks implements plot.Ticker.
func (niceTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(hi > lo) || math.IsInf(hi-lo, 0) {
		return plot.DefaultTicks{}.Ticks(lo, hi)
	}
	step, minors := niceStep((hi - lo) / 8)
	minor := step / float64(minors)
	// Labels need as many decimals as the step has.
	prec := max(0, -int(math.Floor(math.Log10(step)+1e-9)))
	if m := step / math.Pow(10, math.Floor(math.Log10(step)+1e-9)); math.Abs(m-2.5) < 1e-9 {
		prec++
	}
	var ticks []plot.Tick
	for i := math.Ceil(lo/minor - 1e-9); i <= math.Floor(hi/minor+1e-9); i++ {
		v := i * minor
		if v == 0 {
			v = 0 // not -0, which reads "-0"
		}
		t := plot.Tick{Value: v}
		if math.Mod(i, float64(minors)) == 0 {
			// Rounded so 3 × 0.1 reads 0.3; 'f', -1 so 2.5's neighbour reads 5, not 5.0.
			t.Label = strconv.FormatFloat(math.Round(t.Value*math.Pow(10, float64(prec)))/math.Pow(10, float64(prec)), 'f', -1, 64)
		}
		ticks = append(ticks, t)
	}
	return ticks
}

// niceStep returns the smallest of 1, 2, 2.5, 5 × 10^k at least x, and how
// many minor intervals split it.
func niceStep(x float64) (step float64, minors int) {
	pow := math.Pow(10, math.Floor(math.Log10(x)))
	for _, m := range []struct {
		mant   float64
		minors int
	}{{1, 5}, {2, 4}, {2.5, 5}, {5, 5}} {
		if m.mant*pow >= x*(1-1e-9) {
			return m.mant * pow, m.minors
		}
	}
	return 10 * pow, 5
}
