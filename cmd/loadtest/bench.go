package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/flipbench/flipbench/loadtest"
	"golang.org/x/term"
)

func benchCmd(stdout, stderr io.Writer) command {
	fs := newFlagSet("bench", `Usage: loadtest bench [flags]

Runs the comparison from the built server binaries (make build puts them in bin/):

  standard   bin/standard -procs 1                       one process, one core
  threaded   bin/standard -procs <cores>                 one process, every core
  clustered  bin/clustered -workers <cores> -balance reuseport
  shared     bin/clustered -workers <cores> -balance shared

For each mode it starts the server on a free 127.0.0.1 port with a fresh -tmpdir,
waits for /healthz, sends a few sequential warm-up requests (their median is the
calibration S, one job's time here and now), fires each burst level, then stops
the server with SIGTERM and checks it exited with code 0 and left no temp files.
A mode whose binary is missing is skipped with a message.

Writes into -out: env.json, summary.md, summary.json, plots (SVG), and per mode
the raw vegeta results and reports of every level. Ctrl-C stops the server and
keeps what was written. Exit code 1 if a server misbehaved.`, stderr)
	cores := runtime.NumCPU()
	var (
		bin          = fs.String("bin", loadtest.DefaultBinDir, "`folder` holding the standard and clustered binaries")
		modes        = fs.String("modes", strings.Join(loadtest.DefaultModes(), ","), "comma-separated modes to run, in order: "+strings.Join(loadtest.ModeNames(), ", "))
		levels       = fs.String("levels", joinInts(loadtest.DefaultLevels()), "comma-separated burst sizes")
		image        = fs.String("image", loadtest.DefaultImage, "photo the servers flip")
		out          = fs.String("out", loadtest.DefaultOutDir, "run `folder` to write")
		quick        = fs.Bool("quick", false, "quick preset: -image "+loadtest.QuickImage+" -levels "+joinInts(loadtest.QuickLevels())+" (explicit -image/-levels win); a few minutes at most")
		timeout      = fs.Duration("timeout", 0, "client timeout per request (0: per level, 3 × the ideal makespan + 1m)")
		warmups      = fs.Int("warmups", loadtest.DefaultWarmups, "sequential warm-up requests per mode; their median is the calibration S")
		cpus         = fs.Int("cpus", cores, "core count for -procs (threaded) and -workers (clustered, shared)")
		startTimeout = fs.Duration("start-timeout", loadtest.DefaultStartTimeout, "how long to wait for a server's /healthz")
		stopTimeout  = fs.Duration("stop-timeout", loadtest.DefaultStopTimeout, "how long a server may take to exit after SIGTERM before its process group is killed")
		progress     = fs.String("progress", "auto", "progress bar on stderr: auto (when stderr is a terminal), on or off")
	)
	return command{fs: fs, run: func(ctx context.Context, args []string) error {
		if len(args) > 0 {
			return usagef("unexpected arguments %q", args)
		}
		set := setFlags(fs)
		if *quick {
			if !set["image"] {
				*image = loadtest.QuickImage
			}
			if !set["levels"] {
				*levels = joinInts(loadtest.QuickLevels())
			}
		}
		modeList, err := loadtest.ParseModes(*modes)
		if err != nil {
			return usagef("-modes: %v", err)
		}
		levelList, err := loadtest.ParseLevels(*levels)
		if err != nil {
			return usagef("-levels: %v", err)
		}
		switch {
		case *timeout < 0:
			return usagef("-timeout %s: cannot be negative", *timeout)
		case *warmups < 1:
			return usagef("-warmups %d: need at least 1 to calibrate", *warmups)
		case *cpus < 1:
			return usagef("-cpus %d: need at least 1", *cpus)
		case *startTimeout <= 0 || *stopTimeout <= 0:
			return usagef("-start-timeout and -stop-timeout must be positive")
		case *out == "":
			return usagef("-out: need a folder")
		}
		if fi, err := os.Stat(*image); err != nil {
			return usagef("-image: %v", err)
		} else if fi.IsDir() {
			return usagef("-image %s is a folder, want a photo", *image)
		}
		var bar io.Writer
		switch *progress {
		case "on":
			bar = stderr
		case "off":
		case "auto":
			if f, ok := stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
				bar = stderr
			}
		default:
			return usagef("-progress %q: want auto, on or off", *progress)
		}

		start := time.Now()
		opts := []loadtest.BenchOption{
			loadtest.WithBinDir(*bin),
			loadtest.WithModes(modeList...),
			loadtest.WithLevels(levelList...),
			loadtest.WithImage(*image),
			loadtest.WithOutDir(*out),
			loadtest.WithRequestTimeout(*timeout),
			loadtest.WithWarmups(*warmups),
			loadtest.WithCPUs(*cpus),
			loadtest.WithStartTimeout(*startTimeout),
			loadtest.WithStopTimeout(*stopTimeout),
			loadtest.WithLog(stderr),
			loadtest.WithFlags(flagValues(fs), os.Args),
		}
		if bar != nil {
			opts = append(opts, loadtest.WithProgress(bar))
		}
		sum, err := loadtest.Bench(ctx, opts...)
		if sum != nil {
			fmt.Fprintf(stderr, "bench: %s in %s; summary in %s\n", doneWord(err), time.Since(start).Round(time.Second), filepath.Join(*out, loadtest.FileSummaryMD))
		}
		if err != nil && sum != nil && !errors.Is(err, loadtest.ErrProblems) && ctx.Err() == nil {
			return err
		}
		if sum != nil && ctx.Err() == nil {
			if md, rerr := os.ReadFile(filepath.Join(*out, loadtest.FileSummaryMD)); rerr == nil {
				_, _ = stdout.Write(md)
			}
		}
		return err
	}}
}

func doneWord(err error) string {
	switch {
	case err == nil:
		return "done"
	case errors.Is(err, context.Canceled):
		return "interrupted"
	default:
		return "finished with problems"
	}
}

func joinInts(ns []int) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ",")
}
