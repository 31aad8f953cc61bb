// Command standard serves the flip app in one process, by default on one thread
// (GOMAXPROCS=1) as a Node.js process would run it; -procs sets the thread count, and
// the core count gives Go's own answer: one multi-threaded process. Besides
// the app's routes it serves GET /metrics: its job counts, its request, job
// and queue wait histograms, and Go's process and runtime metrics, in
// Prometheus text format. -engine vips runs the job on libvips
// (a binary built with -tags flipbench_vips).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"runtime"
	"syscall"

	"github.com/flipbench/flipbench/contract"
	"github.com/flipbench/flipbench/internal/monitor"
	"github.com/flipbench/flipbench/job"
	"github.com/flipbench/flipbench/listen"
	"github.com/flipbench/flipbench/logx"
	"github.com/flipbench/flipbench/server"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "standard:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("standard", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: standard [flags]\n\nServes GET /, GET /healthz, POST /flip and GET /metrics in one process.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	procs := fs.Int(contract.FlagProcs, 1, "GOMAXPROCS: threads running Go code, and jobs at once (the core count gives the threaded mode)")
	engineName := fs.String(contract.FlagEngine, job.EngineImaging, "image library: imaging (pure Go) or vips (libvips, one thread per job; a binary built with -tags flipbench_vips)")
	cfg := server.RegisterFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	if *procs < 1 {
		return fmt.Errorf("-procs %d: want at least 1", *procs)
	}
	if err := cfg.ResolveImage(); err != nil {
		return err
	}
	engine, err := job.ParseEngine(*engineName)
	if err != nil {
		return err
	}
	runtime.GOMAXPROCS(*procs)
	mode := "standard"
	if *procs > 1 {
		mode = "threaded"
	}
	if engine.Name() != job.EngineImaging {
		mode = engine.Name() + "-" + mode
	}
	log, err := logx.New(os.Stderr, cfg.LogFormat, mode)
	if err != nil {
		return err
	}
	c := cfg.Config
	c.Mode, c.Worker, c.Logger, c.Engine = mode, -1, log, engine
	srv, err := server.New(c)
	if err != nil {
		return err
	}
	defer srv.Close()
	// A registry of its own: nothing else in the process registers there.
	srv.Handle(contract.PathMetrics, monitor.Handler(monitor.ProcessRegistry(srv, srv.Metrics())))

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	if cfg.AddrFile != "" {
		if err := contract.WriteAddrFile(cfg.AddrFile, ln.Addr().String()); err != nil {
			ln.Close()
			return err
		}
	}
	// The wrapper lets a stop take the connections queued in the kernel
	// instead of resetting them.
	return srv.Serve(ctx, listen.New(ln))
}
