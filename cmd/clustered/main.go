// Command clustered serves the flip app from a prefork cluster, as the
// article's Node.js cluster does: a master process that serves nothing and one
// worker process per CPU (-workers), each running Go code on one thread
// (GOMAXPROCS=1). The master restarts crashed workers, makes a rolling restart
// on SIGHUP, and stops the cluster gracefully on SIGTERM or SIGINT.
//
// -balance says how connections reach the workers: reuseport (default) gives
// each worker its own SO_REUSEPORT socket; shared gives them one socket; with
// both a worker accepts a new connection only while its gate has room (new
// work, not open connections: see listen.Gate). rr is Node's SCHED_RR: the
// master accepts every connection and hands it to a worker whose gate has
// room, round-robin. none is Node's SCHED_NONE: one shared socket and no
// gate. See package prefork.
//
// -engine vips runs the workers' jobs on libvips (a binary built with -tags
// flipbench_vips); the master only checks that the build has it.
//
// -admin ADDR (off by default) makes the master serve, on ADDR, GET /workers
// (every worker's pid, state, restarts, RSS and job counts, as JSON), GET
// /metrics (the same in Prometheus text format, with a worker label) and
// /debug/pprof/ for the master itself. Workers report their job counts to
// the master every second on the status pipe prefork keeps with them. With
// -admin, PUT /workers (a count) scales the cluster as SIGTTIN and SIGTTOU do.
//
// The master supervises as gunicorn and PM2 do: a worker silent on its
// status pipe for -worker-timeout is killed and replaced; a job running past
// -job-timeout is answered 503 and its worker replaced gracefully; a worker
// past -max-requests (plus up to -max-requests-jitter) answers, or over
// -max-rss, is replaced gracefully: its replacement starts, and once it is
// ready the old worker stops taking connections and finishes what it holds.
// SIGTTIN adds a worker, SIGTTOU removes one.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"sync"
	"syscall"
	"time"

	"github.com/flipbench/flipbench/contract"
	"github.com/flipbench/flipbench/job"
	"github.com/flipbench/flipbench/logx"
	"github.com/flipbench/flipbench/prefork"
	"github.com/flipbench/flipbench/server"
)

// modeName is what logs and /healthz call the cluster: clustered, or
// <engine>-clustered on an engine other than imaging.
func modeName(engine string) string {
	if engine == "" || engine == job.EngineImaging {
		return "clustered"
	}
	return engine + "-clustered"
}

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

// run is the command: it returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if err := runErr(ctx, args, stdout, stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(stderr, "clustered:", err)
		return 1
	}
	return 0
}

type options struct {
	server  *server.Flags
	workers int
	balance string
	grace   time.Duration
	admin   string
	adminTk *adminToken
	engine  string
	super   *superviseFlags
}

func runErr(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("clustered", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: clustered [flags]\n\nServes GET /, GET /healthz and POST /flip from a master and one worker process per CPU.\nSIGHUP: rolling restart. SIGTTIN, SIGTTOU: add or remove a worker. SIGTERM, SIGINT: graceful stop.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	o := options{}
	fs.IntVar(&o.workers, contract.FlagWorkers, runtime.NumCPU(), "worker processes")
	fs.StringVar(&o.balance, contract.FlagBalance, string(prefork.BalanceReusePort), "how connections reach workers: reuseport (a socket per worker, kernel hash), shared (one socket), rr (the master accepts and hands each connection to a worker, round-robin) or none (one socket, no gate); with reuseport, shared and rr a worker takes a new connection only while it has room for new work (kept-alive connections hold no slot)")
	fs.DurationVar(&o.grace, contract.FlagGrace, 30*time.Second, "how long a stop waits for workers to finish accepted requests before killing them")
	fs.StringVar(&o.admin, contract.FlagAdmin, "", "address where the master serves GET /workers, PUT /workers (a count: scale), GET /metrics and /debug/pprof/ (e.g. 127.0.0.1:9000); off when empty; beyond loopback it needs -"+contract.FlagAdminTokenFile)
	o.adminTk = registerAdminFlags(fs)
	fs.StringVar(&o.engine, contract.FlagEngine, job.EngineImaging, "image library: imaging (pure Go) or vips (libvips, one thread per job; a binary built with -tags flipbench_vips)")
	o.super = registerSuperviseFlags(fs)
	o.server = server.RegisterFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	if err := o.server.ResolveImage(); err != nil {
		return err
	}
	if prefork.IsWorker() {
		return runWorker(ctx, o, stderr)
	}
	return runMaster(ctx, o, stdout, stderr)
}

// runMaster starts and supervises the workers; it serves no requests.
func runMaster(ctx context.Context, o options, stdout, stderr io.Writer) error {
	balance, err := prefork.ParseBalance(o.balance)
	if err != nil {
		return err
	}
	superOpts, err := o.super.options()
	if err != nil {
		return err
	}
	token, err := o.adminTk.resolve(o.admin)
	if err != nil {
		return err
	}
	// Checked here so that a missing engine stops the master before any fork; only
	// the workers start it.
	if err := job.CheckEngine(o.engine); err != nil {
		return err
	}
	log, err := logx.New(stderr, o.server.LogFormat, modeName(o.engine))
	if err != nil {
		return err
	}
	log = log.With("role", "master")
	tmp := o.server.TempDir
	if tmp == "" {
		tmp = os.TempDir()
	}
	m, err := prefork.New(append(superOpts,
		prefork.Output(stdout, stderr),
		prefork.Addr(o.server.Addr),
		prefork.Workers(o.workers),
		prefork.Balancing(balance),
		prefork.Grace(o.grace),
		prefork.Logger(log),
		// A worker killed by a signal cannot remove its work dir; do it for it.
		prefork.OnWorkerExit(func(_, pid int) {
			os.RemoveAll(job.WorkDir(tmp, pid))
		}),
	)...)
	if err != nil {
		return err
	}
	if o.server.AddrFile != "" {
		if err := contract.WriteAddrFile(o.server.AddrFile, m.Addr().String()); err != nil {
			m.Close()
			return err
		}
	}
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	scaleOnSignals(ctx, m, log)
	if o.admin != "" {
		stopAdmin, err := serveAdmin(ctx, o.admin, token, m, log)
		if err != nil {
			m.Close()
			return err
		}
		defer stopAdmin()
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for {
			select {
			case <-hup:
				log.Info("SIGHUP: rolling restart")
				m.Restart()
			case <-ctx.Done():
				return
			}
		}
	}()
	return m.Run(ctx)
}

// runWorker serves the app on the listener the master handed over.
func runWorker(ctx context.Context, o options, stderr io.Writer) error {
	w, err := prefork.NewWorker()
	if err != nil {
		return err
	}
	engine, err := job.ParseEngine(o.engine)
	if err != nil {
		w.Fail(err)
		return err
	}
	mode := modeName(engine.Name())
	log, err := logx.New(stderr, o.server.LogFormat, mode)
	if err != nil {
		w.Fail(err)
		return err
	}
	log = log.With("role", "worker", "worker", w.Index())
	cfg := o.server.Config
	cfg.Mode, cfg.Worker, cfg.Workers, cfg.Logger, cfg.Engine = mode, w.Index(), o.workers, log, engine
	cfg.WorkersNow = w.Workers
	cfg.JobTimeout = o.super.jobTimeout
	cfg.OnJobOverrun = sync.OnceFunc(func() {
		log.Error("a job overran -"+contract.FlagJobTimeout+" and holds its core: asking for a replacement", "job_timeout", cfg.JobTimeout)
		w.AskReplacement("a job overran -" + contract.FlagJobTimeout)
	})
	cfg.Wrap = faults(log)
	srv, err := server.New(cfg)
	if err != nil {
		w.Fail(err)
		return err
	}
	defer srv.Close()
	// The worker stops on SIGTERM/SIGINT, on SIGUSR1 from the master, or
	// when the master dies: prefork handles those.
	return w.Serve(ctx, srv)
}
