package main

import (
	"flag"
	"io"
	"os"
	"runtime"
	"time"

	"github.com/flipbench/flipbench/contract"
	"github.com/flipbench/flipbench/trial"
)

// serverFlags are the flags of every command that starts servers: where
// they are, what they flip, where the run goes, and how long to wait.
type serverFlags struct {
	bin, image, out                    *string
	cpus, warmups                      *int
	timeout, startTimeout, stopTimeout *time.Duration
}

// addServerFlags registers the server flags on fs; out is the run folder's
// default.
func addServerFlags(fs *flag.FlagSet, out string) serverFlags {
	return serverFlags{
		bin:          fs.String("bin", trial.DefaultBinDir, "`folder` holding the Go server binaries"),
		image:        fs.String("image", contract.DefaultImage, "photo the servers flip"),
		out:          fs.String("out", out, "run `folder` to write"),
		cpus:         fs.Int("cpus", runtime.NumCPU(), "core count the modes size themselves by (threads, workers)"),
		warmups:      fs.Int("warmups", trial.DefaultWarmups, "sequential warm-up requests per server start, before its bursts"),
		timeout:      fs.Duration("timeout", 0, "client timeout per request (0: per level, 3 × the ideal makespan + 1m)"),
		startTimeout: fs.Duration("start-timeout", trial.DefaultStartTimeout, "how long to wait for a server's /healthz"),
		stopTimeout:  fs.Duration("stop-timeout", trial.DefaultStopTimeout, "how long a server may take to exit after SIGTERM before its process group is killed"),
	}
}

// check refuses values no run can use.
func (f serverFlags) check() error {
	switch {
	case *f.timeout < 0:
		return usagef("-timeout %s: cannot be negative", *f.timeout)
	case *f.warmups < 1:
		return usagef("-warmups %d: need at least 1 (S is measured after a warm-up)", *f.warmups)
	case *f.cpus < 1:
		return usagef("-cpus %d: need at least 1", *f.cpus)
	case *f.startTimeout <= 0 || *f.stopTimeout <= 0:
		return usagef("-start-timeout and -stop-timeout must be positive")
	case *f.out == "":
		return usagef("-out: need a folder")
	}
	if fi, err := os.Stat(*f.image); err != nil {
		return usagef("-image: %v", err)
	} else if fi.IsDir() {
		return usagef("-image %s is a folder, want a photo", *f.image)
	}
	return nil
}

// settings are the server settings the flags of fs give, logging to log,
// with the command line recorded for env.json.
func (f serverFlags) settings(fs *flag.FlagSet, log io.Writer) trial.Settings {
	return trial.Settings{BinDir: *f.bin, Image: *f.image, Out: *f.out, Cores: *f.cpus, Warmups: *f.warmups,
		StartTimeout: *f.startTimeout, StopTimeout: *f.stopTimeout, Log: log, Flags: flagValues(fs), Args: os.Args}
}
