package server

import (
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/flipbench/flipbench/contract"
	"github.com/flipbench/flipbench/job"
)

// Flags are the command-line settings every server binary shares.
type Flags struct {
	Config
	Addr      string
	AddrFile  string
	LogFormat string
}

// RegisterFlags defines the shared server flags on fs; the result is filled in by
// fs.Parse. Call ResolveImage after parsing.
func RegisterFlags(fs *flag.FlagSet) *Flags {
	f := &Flags{}
	fs.StringVar(&f.Addr, contract.FlagAddr, contract.DefaultAddr, "listen address (port 0 picks a free port; see -"+contract.FlagAddrFile+")")
	fs.StringVar(&f.AddrFile, contract.FlagAddrFile, "", "once listening, write the bound address (host:port) to this `file`")
	fs.StringVar(&f.Image, contract.FlagImage, "", "photo flipped by POST /flip with no body (default "+contract.DefaultImage+", looked up in the working directory, then beside the executable)")
	fs.IntVar(&f.MaxQueue, contract.FlagMaxQueue, job.DefaultMaxQueue, "jobs that may wait for a slot; more get 503 (0 means the default)")
	fs.Int64Var(&f.MaxBody, contract.FlagMaxBody, contract.DefaultMaxBody, "upload limit in bytes, 413 over it (0 means the default)")
	fs.IntVar(&f.MaxPixels, contract.FlagMaxPixels, job.DefaultMaxPixels, "pixel limit for uploads and the photo, 413 over it (0 means the default)")
	fs.StringVar(&f.TempDir, contract.FlagTempDir, "", "base dir for the per-process work dir <tmpdir>/flipbench-<pid> (default the system temp dir)")
	fs.StringVar(&f.LogFormat, contract.FlagLogFormat, contract.DefaultLogFormat, "log format: text or json")
	fs.DurationVar(&f.HeaderTimeout, contract.FlagHeaderTimeout, contract.DefaultHeaderTimeout, "how long a client may take to send a request's headers before its connection is closed")
	fs.DurationVar(&f.IdleTimeout, contract.FlagIdleTimeout, contract.DefaultIdleTimeout, "how long a kept-alive connection may wait for its next request (it holds no job slot meanwhile)")
	fs.DurationVar(&f.ShutdownTimeout, contract.FlagShutdownTimeout, contract.DefaultShutdownTimeout, "how long a graceful stop waits for accepted requests")
	return f
}

// ResolveImage fills in the default photo when -image was not given. The
// default is looked up in the working directory, then in the repository the
// executable was built into (bin/../testdata), so a binary started from any
// directory finds it. The photo is not embedded: it would add 6.7 MB to every
// binary and to every process's memory, and the job copies a file on disk.
func (f *Flags) ResolveImage() error {
	if f.Image != "" {
		return nil
	}
	tried := []string{contract.DefaultImage}
	if exe, err := os.Executable(); err == nil {
		dir := filepath.Dir(exe)
		tried = append(tried,
			filepath.Join(dir, "..", contract.DefaultImage),
			filepath.Join(dir, contract.DefaultImage))
	}
	for _, p := range tried {
		if _, err := os.Stat(p); err == nil {
			f.Image = filepath.Clean(p)
			return nil
		} else if !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("default image: %w", err)
		}
	}
	return fmt.Errorf("default image not found (tried %v): give -%s PATH", tried, contract.FlagImage)
}
