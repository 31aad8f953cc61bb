package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/flipbench/flipbench/bench"
	"github.com/flipbench/flipbench/contract"
	"github.com/flipbench/flipbench/report"
	"github.com/flipbench/flipbench/trial"
)

func crosscheckCmd(stdout, stderr io.Writer) command {
	fs := newFlagSet("crosscheck", fmt.Sprintf(`Usage: loadtest crosscheck [flags]

Checks the project's keep-alive clients against autocannon, a load tool nobody
here wrote. For each mode it starts the server as bench does, warms it up, runs
autocannon (nodeapp/crosscheck.js: autocannon -m POST -c C -d D, with its
answers counted per connection), sends one request to let the queue drain, runs
the project's C keep-alive clients for the same D, stops the server, and prints
both side by side: answers, answers/s, p50, p99, and clients never answered.
Where node or autocannon is missing (make build installs it with npm ci), it
says so in one line and runs the project's clients alone.

Then the article's own load (its artillery.yaml: arrivals at a constant rate,
one POST /flip each on a fresh connection, a 10 s timeout): first S is
measured on standard, then for each mode Artillery (nodeapp/artillery.js) and
the project's open model send -artillery-rate arrivals/s for
-artillery-duration, each on a fresh start of the server, and both are printed
side by side: answered, answers/s, p50, p99, non-2xx, unanswered. The default
rate, %.1f/S rounded, is past one job slot's capacity and within two (the
article's 20/s on the 1 MP photo). Where Artillery is missing, one line says
so and the open model runs alone; -artillery=false skips this part.

Writes crosscheck.md, crosscheck.json and per mode the server log,
autocannon.json and the keep-alive files into -out, the arrivals' files into
-out/MODE/artillery and -out/MODE/open.`, bench.ArrivalsLoad), stderr)
	var (
		bin          = fs.String("bin", trial.DefaultBinDir, "`folder` holding the Go server binaries")
		nodeApp      = fs.String("nodeapp", trial.DefaultNodeApp, "`folder` of the Node app, with autocannon installed")
		image        = fs.String("image", contract.QuickImage, "photo the servers flip")
		modes        = fs.String("modes", strings.Join(trial.ModeNames(), ","), "comma-separated modes to check")
		clients      = fs.Int("clients", bench.DefaultCrossClients, "keep-alive clients (autocannon's connections)")
		duration     = fs.Duration("duration", bench.DefaultCrossDuration, "how long each client runs, in whole seconds")
		out          = fs.String("out", bench.DefaultCrossOut, "`folder` to write into")
		cpus         = fs.Int("cpus", runtime.NumCPU(), "core count the modes size themselves by")
		warmups      = fs.Int("warmups", trial.DefaultWarmups, "sequential warm-up requests per mode")
		startTimeout = fs.Duration("start-timeout", trial.DefaultStartTimeout, "how long to wait for a server's /healthz")
		stopTimeout  = fs.Duration("stop-timeout", trial.DefaultStopTimeout, "how long a server may take to exit after SIGTERM")
		arrivals     = fs.Bool("artillery", true, "also send the article's arrivals with Artillery and the open model")
		artRate      = fs.Float64("artillery-rate", 0, fmt.Sprintf("arrivals per second of the article's load (0: %.1f/S measured on standard, whole)", bench.ArrivalsLoad))
		artDuration  = fs.Duration("artillery-duration", bench.DefaultArrivalsDuration, "how long the article's arrivals run, in whole seconds")
		maxRSS       = fs.String("max-rss", "", "memory guard during the arrivals: kill a server whose processes hold more than this `size` (default half the machine's memory)")
	)
	return command{fs: fs, run: func(ctx context.Context, args []string) error {
		switch {
		case len(args) > 0:
			return usagef("unexpected arguments %q", args)
		case *clients < 1:
			return usagef("-clients %d: need at least 1", *clients)
		case *duration < time.Second || *duration%time.Second != 0:
			return usagef("-duration %s: want whole seconds, at least 1s (autocannon's -d)", *duration)
		case *warmups < 1 || *cpus < 1:
			return usagef("-warmups and -cpus need at least 1")
		}
		var budget uint64
		if *maxRSS != "" {
			var err error
			if budget, err = trial.ParseSize(*maxRSS); err != nil {
				return usagef("-max-rss: %v", err)
			}
		}
		arr := bench.CrossArrivals{Off: !*arrivals, Rate: *artRate, Duration: *artDuration}
		if err := arr.Validate(); err != nil {
			return usagef("%v", err)
		}
		modeList, err := trial.ParseModes(*modes)
		if err != nil {
			return usagef("-modes: %v", err)
		}
		if _, err := os.Stat(*image); err != nil {
			return usagef("-image: %v", err)
		}
		start := time.Now()
		cc, err := bench.RunCrossCheck(ctx, bench.CrossConfig{
			Settings: trial.Settings{BinDir: *bin, NodeApp: *nodeApp, Image: *image, Out: *out, Warmups: *warmups, Cores: *cpus,
				StartTimeout: *startTimeout, StopTimeout: *stopTimeout, Log: stderr, Flags: flagValues(fs), Args: os.Args},
			Modes: modeList, Clients: *clients, Duration: *duration, Arrivals: arr, MaxRSS: budget,
		})
		if cc == nil {
			return err
		}
		md := report.RenderCrossCheck(cc)
		if werr := os.WriteFile(filepath.Join(*out, "crosscheck.md"), []byte(md), 0o644); werr != nil && err == nil {
			err = fmt.Errorf("write crosscheck.md: %w", werr)
		}
		fmt.Fprintf(stderr, "crosscheck: %s in %s\n", doneWord(err), time.Since(start).Round(time.Second))
		_, _ = io.WriteString(stdout, md)
		return err
	}}
}
