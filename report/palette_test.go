package report

import (
	"image/color"
	"math"
	"testing"
)

// The palette gives every mode of the runner's order (15 today) a colour
// no other mode has, far enough apart to tell on a plot, and keeps the
// colours older plots drew the first seven modes in.
func TestPaletteDistinct(t *testing.T) {
	const n, minDeltaE = 20, 20.0
	for i := range n {
		for j := range i {
			if d := deltaE(paletteColor(i), paletteColor(j)); d < minDeltaE {
				t.Errorf("colours %d and %d are %.1f apart (ΔE*76), want at least %g", j, i, d, minDeltaE)
			}
		}
	}
	for i := range 16 {
		for j := range i {
			if paletteColor(i) == paletteColor(j) {
				t.Errorf("colours %d and %d are the same", j, i)
			}
		}
	}
	old := []color.RGBA{{0xd6, 0x27, 0x28, 0xff}, {0x2c, 0xa0, 0x2c, 0xff}, {0x1f, 0x77, 0xb4, 0xff}, {0xff, 0x7f, 0x0e, 0xff},
		{0x94, 0x67, 0xbd, 0xff}, {0x8c, 0x56, 0x4b, 0xff}, {0xe3, 0x77, 0xc2, 0xff}}
	for i, want := range old {
		if got := paletteColor(i); got != want {
			t.Errorf("colour %d = %v, want %v as before", i, got, want)
		}
	}
}

// deltaE is the CIE76 distance of two sRGB colours in CIELAB (D65).
func deltaE(a, b color.Color) float64 {
	la, aa, ba := cielab(a)
	lb, ab, bb := cielab(b)
	return math.Sqrt((la-lb)*(la-lb) + (aa-ab)*(aa-ab) + (ba-bb)*(ba-bb))
}

func cielab(c color.Color) (l, a, b float64) {
	r8, g8, b8, _ := c.RGBA()
	lin := func(v uint32) float64 {
		x := float64(v>>8) / 255
		if x <= 0.04045 {
			return x / 12.92
		}
		return math.Pow((x+0.055)/1.055, 2.4)
	}
	r, g, bl := lin(r8), lin(g8), lin(b8)
	x := (0.4124*r + 0.3576*g + 0.1805*bl) / 0.95047
	y := 0.2126*r + 0.7152*g + 0.0722*bl
	z := (0.0193*r + 0.1192*g + 0.9505*bl) / 1.08883
	f := func(t float64) float64 {
		if t > 0.008856 {
			return math.Cbrt(t)
		}
		return 7.787*t + 16.0/116
	}
	return 116*f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z))
}
