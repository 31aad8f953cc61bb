package job

import (
	"bytes"
	"context"
	"image/jpeg"
	"os"
	"testing"
)

// BenchmarkJob runs the article's job on the small and the full photo; run with
// -benchmem for the bytes per job.
func BenchmarkJob(b *testing.B) {
	for _, bb := range []struct{ name, photo string }{
		{"photo-1mp", smallPhoto},
		{"photo-6.7mb", "../testdata/photo-6.7mb.jpg"},
	} {
		b.Run(bb.name, func(b *testing.B) {
			r, err := NewRunner(bb.photo, b.TempDir(), 0)
			if err != nil {
				b.Fatal(err)
			}
			defer r.Close()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := r.Run(context.Background()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkEngineJob runs the article's job on the small photo on every engine of the
// build. The gate divides libvips' time by imaging's, measured in the same go test
// run (-tags flipbench_vips): a build whose libvips job got as slow as imaging's, a
// fallback to the pure-Go path or libvips on the wrong settings, shows there.
func BenchmarkEngineJob(b *testing.B) {
	for _, name := range EngineNames() {
		b.Run(name+"/photo-1mp", func(b *testing.B) {
			e, err := ParseEngine(name)
			if err != nil {
				b.Skipf("engine %s not in this build: -tags flipbench_vips with libvips-dev installed", name)
			}
			r, err := e.NewRunner(smallPhoto, b.TempDir(), 0)
			if err != nil {
				b.Fatal(err)
			}
			defer r.Close()
			for b.Loop() {
				if _, err := r.Run(context.Background()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkJPEGFloor decodes and re-encodes the small photo with the standard
// library alone, at the job's quality: the floor under any JPEG flip. The gate
// divides BenchmarkJob's time by it, a ratio that carries across machines.
func BenchmarkJPEGFloor(b *testing.B) {
	b.Run("photo-1mp", func(b *testing.B) {
		data, err := os.ReadFile(smallPhoto)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		var out bytes.Buffer
		for b.Loop() {
			img, err := jpeg.Decode(bytes.NewReader(data))
			if err != nil {
				b.Fatal(err)
			}
			out.Reset()
			if err := jpeg.Encode(&out, img, &jpeg.Options{Quality: JPEGQuality}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
