//go:build flipbench_vips

package job

import (
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/davidbyttow/govips/v2/vips"
)

// vipsCodec is libvips through govips. govips rather than bimg: it takes libvips'
// settings in code (threads, cache) and gives single operations (load with fail on
// error, flip, JPEG export with its subsampling), where bimg takes its thread count
// from VIPS_CONCURRENCY (1 when unset) and runs every call through its resize
// pipeline, which rotates by EXIF orientation unless told not to.
//
// libvips is set up once per process: one thread per image, so a job slot is a core
// as it is for imaging, and no operation cache, because every job decodes new bytes
// and a cache would never hit, only hold decoded images.
type vipsCodec struct{}

// startVips sets libvips up. libvips and govips' settings are process-wide, and
// govips' logging settings are unguarded globals its finalizers read: set them once,
// before any image exists.
var startVips = sync.OnceFunc(func() {
	// Silent: every failure comes back as an error, and libvips' own lines (start-up
	// steps at info, "error in tile" warnings for a bad upload) would break a JSON log.
	vips.LoggingSettings(func(string, vips.LogLevel, string) {}, vips.LogLevelError)
	vips.Startup(&vips.Config{ConcurrencyLevel: 1, MaxCacheMem: 0, MaxCacheSize: 0, MaxCacheFiles: 0})
})

// vipsInBuild is true: this build has libvips.
const vipsInBuild = true

func newVips() codec {
	startVips()
	return vipsCodec{}
}

func (vipsCodec) name() string { return EngineVips }

func (c vipsCodec) decodeFile(path string) (picture, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read: %w", err)
	}
	return c.decodeBytes(data)
}

func (vipsCodec) decodeBytes(data []byte) (picture, error) {
	params := vips.NewImportParams()
	// Fail on a truncated or corrupt image, as image/jpeg does, instead of libvips'
	// default of a warning and grey rows.
	params.FailOnError.Set(true)
	// The first frame of an animated GIF, as imaging does.
	params.NumPages.Set(1)
	img, err := vips.LoadImageFromBuffer(data, params)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrDecode, err)
	}
	return &vipsPicture{img: img}, nil
}

type vipsPicture struct{ img *vips.ImageRef }

func (p *vipsPicture) size() (int, int) { return p.img.Width(), p.img.Height() }

func (p *vipsPicture) flipV() error {
	if err := p.img.Flip(vips.DirectionVertical); err != nil {
		return fmt.Errorf("vips flip: %w", err)
	}
	return nil
}

// encode runs the whole pipeline: libvips decodes lazily, when the encoder pulls the
// pixels, so an error here is the input's (a truncated JPEG fails now, not at load).
func (p *vipsPicture) encode(w io.Writer, format string) error {
	var (
		out []byte
		err error
	)
	switch format {
	case "jpeg":
		// 4:2:0 as image/jpeg and sharp write it (libvips' auto mode keeps full
		// chroma at quality 90 and above), baseline, no metadata.
		out, _, err = p.img.ExportJpeg(&vips.JpegExportParams{
			Quality:       JPEGQuality,
			SubsampleMode: vips.VipsForeignSubsampleOn,
			StripMetadata: true,
		})
	case "png":
		out, _, err = p.img.ExportPng(&vips.PngExportParams{Compression: 6, Filter: vips.PngFilterNone, StripMetadata: true})
	case "gif":
		out, _, err = p.img.ExportGIF(vips.NewGifExportParams())
	default:
		return fmt.Errorf("%w: %s", ErrFormat, format)
	}
	if err != nil {
		return fmt.Errorf("%w: vips %s pipeline: %v", ErrDecode, format, err)
	}
	if _, err := w.Write(out); err != nil {
		return fmt.Errorf("write %s: %w", format, err)
	}
	return nil
}

func (p *vipsPicture) close() { p.img.Close() }
