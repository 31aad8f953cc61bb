package server

import (
	"flag"
	"time"

	"github.com/flipbench/flipbench/job"
)

// Flags are the command-line settings both modes share.
type Flags struct {
	Config
	Addr      string
	LogFormat string
}

// DefaultImage is the photo of the article's experiment, relative to the repository.
const DefaultImage = "testdata/photo-6.7mb.jpg"

// RegisterFlags defines the shared server flags on fs; the result is filled in by
// fs.Parse.
func RegisterFlags(fs *flag.FlagSet) *Flags {
	f := &Flags{}
	fs.StringVar(&f.Addr, "addr", ":3000", "listen address")
	fs.StringVar(&f.Image, "image", DefaultImage, "photo flipped by POST /flip with no body")
	fs.IntVar(&f.MaxQueue, "max-queue", job.DefaultMaxQueue, "jobs that may wait for a slot; more get 503 (0 means the default)")
	fs.Int64Var(&f.MaxBody, "max-body", DefaultMaxBody, "upload limit in bytes, 413 over it (0 means the default)")
	fs.IntVar(&f.MaxPixels, "max-pixels", job.DefaultMaxPixels, "pixel limit for uploads and the photo, 413 over it (0 means the default)")
	fs.StringVar(&f.TempDir, "tmpdir", "", "base dir for the per-process work dir <tmpdir>/flipbench-<pid> (default the system temp dir)")
	fs.StringVar(&f.LogFormat, "log-format", "text", "log format: text or json")
	fs.DurationVar(&f.ShutdownTimeout, "shutdown-timeout", 10*time.Minute, "how long a graceful stop waits for accepted requests")
	return f
}
