package job

import (
	"context"
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
