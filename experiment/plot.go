package experiment

import (
	"image/color"

	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/flipbench/flipbench/report"
	"github.com/flipbench/flipbench/trial"
)

// The look the experiments' plots share: a mode's color, its dots and
// lines, and the reference lines (an ideal, a bound) across a plot.

// ModeColor is mode's color in every plot, by its place among bench's
// modes; i picks one for a mode bench does not know.
func ModeColor(mode string, i int) color.Color { return report.ModeColor(trial.ModeNames(), mode, i) }

// Dots is the glyph of a plot's points in c.
func Dots(c color.Color) draw.GlyphStyle {
	return draw.GlyphStyle{Color: c, Radius: vg.Points(3), Shape: draw.CircleGlyph{}}
}

// ModeLine is the style of a mode's line in c.
func ModeLine(c color.Color) draw.LineStyle { return draw.LineStyle{Color: c, Width: vg.Points(1.5)} }

// RefLine is the style of a reference line: solid without dashes, else
// dashed with dashes and gaps of the given lengths in points.
func RefLine(dashes ...float64) draw.LineStyle {
	l := draw.LineStyle{Color: color.Gray{Y: 0x40}, Width: vg.Points(1.2)}
	for _, d := range dashes {
		l.Dashes = append(l.Dashes, vg.Points(d))
	}
	return l
}
