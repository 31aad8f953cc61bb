// Package job is the experiment's unit of work: flip a photo vertically. It knows
// nothing of HTTP; the limiter that admits jobs lives here too.
package job

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"io"

	// Registered for image.DecodeConfig; imaging decodes the same formats.
	_ "image/gif"
	_ "image/jpeg"
	_ "image/png"

	"github.com/disintegration/imaging"
)

// DefaultMaxPixels is the default pixel limit: 50 MP, about 200 MB decoded as NRGBA.
const DefaultMaxPixels = 50_000_000

// JPEGQuality is the quality of every JPEG this package writes (imaging's default).
const JPEGQuality = 95

// formats maps image.DecodeConfig's format names to imaging's encoders. Only formats
// that imaging can both read and write, and that the standard library can sniff, are
// accepted.
var formats = map[string]imaging.Format{
	"jpeg": imaging.JPEG,
	"png":  imaging.PNG,
	"gif":  imaging.GIF,
}

// Check reads only the header of an image and returns its format name ("jpeg", "png",
// "gif") once it knows the image is within maxPixels (0 means DefaultMaxPixels).
func Check(data []byte, maxPixels int) (string, image.Config, error) {
	if len(data) == 0 {
		return "", image.Config{}, ErrEmpty
	}
	return checkHeader(bytes.NewReader(data), maxPixels)
}

func checkHeader(r io.Reader, maxPixels int) (string, image.Config, error) {
	if maxPixels <= 0 {
		maxPixels = DefaultMaxPixels
	}
	cfg, name, err := image.DecodeConfig(r)
	if err != nil {
		if errors.Is(err, image.ErrFormat) {
			// The standard library's sniffing found no known magic number.
			return "", cfg, fmt.Errorf("%w: %v", ErrFormat, err)
		}
		return "", cfg, fmt.Errorf("%w: header: %v", ErrDecode, err)
	}
	if _, ok := formats[name]; !ok {
		return "", cfg, fmt.Errorf("%w: %s", ErrFormat, name)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return "", cfg, fmt.Errorf("%w: %dx%d", ErrDecode, cfg.Width, cfg.Height)
	}
	if px := int64(cfg.Width) * int64(cfg.Height); px > int64(maxPixels) {
		return "", cfg, fmt.Errorf("%w: %dx%d is %d pixels, limit %d", ErrTooManyPixels, cfg.Width, cfg.Height, px, maxPixels)
	}
	return name, cfg, nil
}

// Flip reads an image from r, flips it vertically and writes it to w in the format it
// came in (an animated GIF keeps its first frame). It returns the format name.
func Flip(r io.Reader, w io.Writer, maxPixels int) (string, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return "", fmt.Errorf("read image: %w", err)
	}
	return FlipBytes(data, w, maxPixels)
}

// FlipBytes is Flip on an image already in memory, with imaging (Engine.FlipBytes
// picks another engine). The header is checked against maxPixels (0 means
// DefaultMaxPixels) before the pixels are decoded, so a small file that declares a huge
// image costs nothing.
func FlipBytes(data []byte, w io.Writer, maxPixels int) (string, error) {
	return Engine{}.FlipBytes(data, w, maxPixels)
}

// flipV is imaging.FlipV, plus the wasted work a slowdown build injects.
func flipV(img image.Image) *image.NRGBA {
	flipped := imaging.FlipV(img)
	for range extraEncodes {
		_ = imaging.Encode(io.Discard, flipped, imaging.JPEG, imaging.JPEGQuality(JPEGQuality))
	}
	return flipped
}
