package job

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/gif"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/disintegration/imaging"
)

// pattern returns a w×h image whose every row differs, so a flip that moves the wrong
// row shows.
func pattern(w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.NRGBA{uint8(y * 7), uint8(x * 13), uint8(x + y), 255})
		}
	}
	return img
}

// assertFlippedV fails unless got is want with row y moved to h-1-y, pixel for pixel.
func assertFlippedV(t *testing.T, got, want image.Image) {
	t.Helper()
	if got.Bounds().Size() != want.Bounds().Size() {
		t.Fatalf("size: got %v, want %v", got.Bounds().Size(), want.Bounds().Size())
	}
	g, w := imaging.Clone(got), imaging.Clone(want)
	h := w.Bounds().Dy()
	for y := range h {
		for x := range w.Bounds().Dx() {
			if gc, wc := g.NRGBAAt(x, y), w.NRGBAAt(x, h-1-y); gc != wc {
				t.Fatalf("pixel (%d,%d): got %v, want %v (input row %d)", x, y, gc, wc, h-1-y)
			}
		}
	}
}

// flipAs flips data with e into out and fails unless it succeeds in format.
func flipAs(t *testing.T, e Engine, data []byte, out *bytes.Buffer, format string) {
	t.Helper()
	got, err := e.FlipBytes(data, out, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got != format {
		t.Errorf("format: got %q, want %s", got, format)
	}
}

func TestFlipPNGPixelExact(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e Engine) {
		src := pattern(37, 23)
		var in, out bytes.Buffer
		if err := png.Encode(&in, src); err != nil {
			t.Fatal(err)
		}
		flipAs(t, e, in.Bytes(), &out, "png")
		got, err := png.Decode(&out)
		if err != nil {
			t.Fatalf("output is not PNG: %v", err)
		}
		assertFlippedV(t, got, src)
	})
}

// TestFlipGIF: an animated GIF comes back as its first frame, flipped.
func TestFlipGIF(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e Engine) {
		pal := color.Palette{color.Black, color.White, color.NRGBA{255, 0, 0, 255}}
		frame := func(shift int) *image.Paletted {
			p := image.NewPaletted(image.Rect(0, 0, 8, 6), pal)
			for y := range 6 {
				for x := range 8 {
					p.SetColorIndex(x, y, uint8((x*y+y+shift)%3))
				}
			}
			return p
		}
		anim := &gif.GIF{Image: []*image.Paletted{frame(0), frame(1)}, Delay: []int{10, 10}}
		var in, out bytes.Buffer
		if err := gif.EncodeAll(&in, anim); err != nil {
			t.Fatal(err)
		}
		flipAs(t, e, in.Bytes(), &out, "gif")
		got, err := gif.DecodeAll(&out)
		if err != nil {
			t.Fatalf("output is not GIF: %v", err)
		}
		if len(got.Image) != 1 {
			t.Errorf("frames: got %d, want the first only", len(got.Image))
		}
		assertFlippedV(t, got.Image[0], anim.Image[0])
	})
}

func TestFlipJPEGMatchesImaging(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "testdata", "photo-1mp.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if _, err := Flip(bytes.NewReader(data), &out, 0); err != nil {
		t.Fatal(err)
	}
	// A JPEG round trip is lossy: compare with imaging's own flip of the decoded
	// input, encoded the same way.
	src, err := imaging.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	if err := imaging.Encode(&want, imaging.FlipV(src), imaging.JPEG, imaging.JPEGQuality(JPEGQuality)); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Bytes(), want.Bytes()) {
		t.Fatalf("output differs from imaging.FlipV of the input (%d vs %d bytes)", out.Len(), want.Len())
	}
}

// TestFlipBadInputs: the hidden dangers (a PNG whose header claims a huge image, a
// truncated JPEG) fail the same typed way on every engine, and write nothing.
func TestFlipBadInputs(t *testing.T) {
	tests := []struct {
		file      string
		maxPixels int
		want      error
	}{
		{"empty.jpg", 0, ErrEmpty},
		{"text.jpg", 0, ErrFormat},
		{"truncated.jpg", 0, ErrDecode},
		{"huge-header.png", 0, ErrTooManyPixels},
		{"../photo-1mp.jpg", 1000, ErrTooManyPixels},
	}
	forEachEngine(t, func(t *testing.T, e Engine) {
		for _, tt := range tests {
			t.Run(tt.file, func(t *testing.T) {
				data, err := os.ReadFile(filepath.Join("..", "testdata", "bad", tt.file))
				if err != nil {
					t.Fatal(err)
				}
				var out bytes.Buffer
				_, err = e.FlipBytes(data, &out, tt.maxPixels)
				if !errors.Is(err, tt.want) {
					t.Fatalf("got %v, want %v", err, tt.want)
				}
				if out.Len() != 0 {
					t.Errorf("wrote %d bytes for a bad input", out.Len())
				}
			})
		}
	})
}

// FuzzFlip feeds the upload path arbitrary bytes: it must answer with a typed error
// or a decodable image, never panic.
func FuzzFlip(f *testing.F) {
	for _, name := range []string{"empty.jpg", "text.jpg", "truncated.jpg", "huge-header.png"} {
		data, err := os.ReadFile(filepath.Join("..", "testdata", "bad", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	var small bytes.Buffer
	if err := png.Encode(&small, pattern(4, 3)); err != nil {
		f.Fatal(err)
	}
	f.Add(small.Bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		var out bytes.Buffer
		// A low limit keeps each input cheap however large a header it claims.
		_, err := Flip(bytes.NewReader(data), &out, 1<<16)
		if err != nil {
			for _, want := range []error{ErrEmpty, ErrFormat, ErrDecode, ErrTooManyPixels} {
				if errors.Is(err, want) {
					return
				}
			}
			t.Fatalf("untyped error: %v", err)
		}
		if _, _, err := image.Decode(&out); err != nil {
			t.Fatalf("output does not decode: %v", err)
		}
	})
}
