package job

import (
	"bytes"
	"fmt"
	"image"
	"io"
	"os"
	"strings"

	"github.com/disintegration/imaging"
)

// Engine names, as the servers' -engine flag takes them.
const (
	EngineImaging = "imaging" // pure Go (github.com/disintegration/imaging); every build
	EngineVips    = "vips"    // libvips through govips; only in a build with -tags flipbench_vips
)

// EngineNames lists every engine name, available in this build or not.
func EngineNames() []string { return []string{EngineImaging, EngineVips} }

// Engine is the image library a job decodes, flips and encodes with. The zero Engine
// is imaging. Whatever the engine, an input's header is checked by the standard
// library (Check) against the pixel limit before the engine sees a byte of it, so the
// same inputs fail the same way on every engine.
type Engine struct {
	c codec // nil is imaging
}

// codec is what an engine implements: decode a file or bytes whose header Check
// accepted into a picture.
type codec interface {
	name() string
	decodeFile(path string) (picture, error)
	decodeBytes(data []byte) (picture, error)
}

// picture is one decoded image inside an engine.
type picture interface {
	size() (w, h int)
	flipV() error
	// encode writes the picture in format (a name Check returns).
	encode(w io.Writer, format string) error
	// close frees what the engine holds outside Go's heap.
	close()
}

// CheckEngine says whether this build has the engine called name ("" is imaging),
// without starting it: a cluster's master checks, its workers start the engine.
func CheckEngine(name string) error {
	switch name {
	case EngineImaging, "":
		return nil
	case EngineVips:
		if !vipsInBuild {
			return fmt.Errorf("engine %s: this binary was built without libvips (build with -tags flipbench_vips and libvips-dev installed; make build does when pkg-config finds vips)", name)
		}
		return nil
	}
	return fmt.Errorf("unknown engine %q (known: %s)", name, strings.Join(EngineNames(), ", "))
}

// ParseEngine returns the engine called name ("" is imaging), started; an engine this
// build lacks is an error that says how to build it in.
func ParseEngine(name string) (Engine, error) {
	if err := CheckEngine(name); err != nil {
		return Engine{}, err
	}
	if name == EngineVips {
		return Engine{c: newVips()}, nil
	}
	return Engine{}, nil
}

func (e Engine) codec() codec {
	if e.c == nil {
		return imagingCodec{}
	}
	return e.c
}

// Name is the engine's name, as ParseEngine takes it.
func (e Engine) Name() string { return e.codec().name() }

// FlipBytes is Flip on an image already in memory, with this engine. The header is
// checked against maxPixels (0 means DefaultMaxPixels) before the pixels are decoded,
// so a small file that declares a huge image costs nothing.
func (e Engine) FlipBytes(data []byte, w io.Writer, maxPixels int) (string, error) {
	name, _, err := Check(data, maxPixels)
	if err != nil {
		return "", err
	}
	pic, err := e.codec().decodeBytes(data)
	if err != nil {
		return name, err
	}
	defer pic.close()
	if err := pic.flipV(); err != nil {
		return name, fmt.Errorf("flip: %w", err)
	}
	// Encode into memory first: a failed encode must write nothing to w.
	var buf bytes.Buffer
	if err := pic.encode(&buf, name); err != nil {
		return name, err
	}
	if _, err := buf.WriteTo(w); err != nil {
		return name, fmt.Errorf("write %s: %w", name, err)
	}
	return name, nil
}

// imagingCodec is the pure-Go engine.
type imagingCodec struct{}

func (imagingCodec) name() string { return EngineImaging }

func (imagingCodec) decodeFile(path string) (picture, error) {
	img, err := imaging.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrDecode, err)
	}
	return &imagingPicture{img: img}, nil
}

func (imagingCodec) decodeBytes(data []byte) (picture, error) {
	img, err := imaging.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrDecode, err)
	}
	return &imagingPicture{img: img}, nil
}

type imagingPicture struct{ img image.Image }

func (p *imagingPicture) size() (int, int) { return p.img.Bounds().Dx(), p.img.Bounds().Dy() }

func (p *imagingPicture) flipV() error {
	p.img = flipV(p.img)
	return nil
}

func (p *imagingPicture) encode(w io.Writer, format string) error {
	f, ok := formats[format]
	if !ok {
		return fmt.Errorf("%w: %s", ErrFormat, format)
	}
	if err := imaging.Encode(w, p.img, f, imaging.JPEGQuality(JPEGQuality)); err != nil {
		return fmt.Errorf("encode %s: %w", format, err)
	}
	return nil
}

func (p *imagingPicture) close() {}

// saveFile encodes pic into the file at path (replacing it) in format.
func saveFile(pic picture, path, format string) (err error) {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("save: %w", err)
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("save: %w", cerr)
		}
	}()
	// Unbuffered, as imaging.Save writes: image/jpeg buffers its own writes.
	return pic.encode(f, format)
}
