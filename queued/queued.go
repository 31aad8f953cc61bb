// Package queued is the queued mode: an HTTP front that flips nothing
// itself, a NATS broker, and worker processes that pull jobs from it (see
// package queue for the decisions). RunFront is the front and its local
// workers; RunWorker is one worker, started by a front or on its own.
package queued

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/flipbench/flipbench/contract"
	"github.com/flipbench/flipbench/job"
	"github.com/flipbench/flipbench/listen"
	"github.com/flipbench/flipbench/prefork"
	"github.com/flipbench/flipbench/queue"
	"github.com/flipbench/flipbench/server"
)

// Mode is the mode's name in logs and /healthz.
const Mode = "queued"

// FrontConfig is what RunFront needs.
type FrontConfig struct {
	// Server holds the common server settings; Image, TempDir, MaxPixels
	// and LogFormat are handed to the local workers.
	Server     server.Flags
	NATS       string // an external NATS URL; "" embeds a server
	NATSListen string // the embedded server's address; "" is queue.DefaultListen
	Workers    int    // local worker processes
	Grace      time.Duration
	AckWait    time.Duration
	ResultTTL  time.Duration
	MaxJobs    int
	Logger     *slog.Logger
}

// RunFront runs the front until ctx is done: the embedded broker (unless
// NATS is set), the local workers, and the HTTP server. A stop first
// answers every accepted request (the workers still run), then stops the
// workers, then the broker.
func RunFront(ctx context.Context, cfg FrontConfig) error {
	log := cfg.Logger.With("role", "front")
	tmp := cfg.Server.TempDir
	if tmp == "" {
		tmp = os.TempDir()
	}
	nc, url, closeBroker, err := broker(cfg, tmp)
	if err != nil {
		return err
	}
	defer closeBroker()
	defer nc.Close()
	log.Info("nats ready", "url", url, "embedded", cfg.NATS == "")

	front, err := queue.NewFront(ctx, queue.FrontConfig{
		Conn: nc, AckWait: cfg.AckWait, ResultTTL: cfg.ResultTTL, MaxJobs: cfg.MaxJobs,
		MaxQueue: cfg.Server.MaxQueue, Logger: log,
	})
	if err != nil {
		return err
	}
	defer front.Close()

	sc := cfg.Server.Config
	sc.Mode, sc.Worker, sc.Workers, sc.Logger, sc.Jobs = Mode, -1, 1, log, front
	srv, err := server.New(sc)
	if err != nil {
		return err
	}
	defer srv.Close()

	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", cfg.Server.Addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	if cfg.Server.AddrFile != "" {
		if err := contract.WriteAddrFile(cfg.Server.AddrFile, ln.Addr().String()); err != nil {
			ln.Close()
			return err
		}
	}

	// The workers outlive the HTTP server's stop: accepted requests wait
	// for them.
	workersCtx, stopWorkers := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWorkers()
	workersDone := make(chan error, 1)
	if cfg.Workers > 0 {
		m, err := localWorkers(cfg, url, tmp)
		if err != nil {
			ln.Close()
			return err
		}
		go func() { workersDone <- m.Run(workersCtx) }()
	} else {
		workersDone <- nil
	}
	serveErr := srv.Serve(ctx, listen.New(ln))
	stopWorkers()
	if err := <-workersDone; err != nil {
		return fmt.Errorf("local workers: %w", err)
	}
	return serveErr
}

// broker connects to the external NATS, or starts the embedded one.
func broker(cfg FrontConfig, tmp string) (nc *nats.Conn, url string, closeFn func(), err error) {
	if cfg.NATS != "" {
		nc, err := queue.Dial(cfg.NATS, "flipbench front")
		return nc, cfg.NATS, func() {}, err
	}
	addr := cfg.NATSListen
	if addr == "" {
		addr = queue.DefaultListen
	}
	emb, err := queue.StartEmbedded(addr, tmp)
	if err != nil {
		return nil, "", nil, err
	}
	nc, err = emb.Connect(nats.Name("flipbench front"))
	if err != nil {
		emb.Close()
		return nil, "", nil, err
	}
	return nc, emb.URL(), func() {
		if err := emb.Close(); err != nil {
			cfg.Logger.Warn("close nats", "role", "front", "err", err)
		}
	}, nil
}

// localWorkers is the supervisor of the front's worker processes: this
// binary, as "worker", on the broker at url.
func localWorkers(cfg FrontConfig, url, tmp string) (*prefork.Master, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find own executable: %w", err)
	}
	s := cfg.Server
	args := []string{contract.CommandWorker,
		contract.Arg(contract.FlagNATS, url),
		contract.Arg(contract.FlagImage, s.Image),
		contract.Arg(contract.FlagTempDir, tmp),
		contract.Arg(contract.FlagMaxPixels, strconv.Itoa(s.MaxPixels)),
		contract.Arg(contract.FlagLogFormat, s.LogFormat),
	}
	return prefork.New(
		prefork.Socketless(),
		prefork.Workers(cfg.Workers),
		prefork.Grace(cfg.Grace),
		prefork.Logger(cfg.Logger.With("role", "master")),
		prefork.Command(exe, args...),
		// A worker killed by a signal cannot remove its work dir; do it for it.
		prefork.OnWorkerExit(func(_, pid int) { os.RemoveAll(job.WorkDir(tmp, pid)) }),
	)
}

// WorkerConfig is what RunWorker needs.
type WorkerConfig struct {
	NATS      string
	Image     string
	TempDir   string
	MaxPixels int
	Slots     int
	Logger    *slog.Logger
}

// RunWorker runs one worker until ctx is done. Started by a front's
// supervisor, it follows the prefork protocol (ready, Pdeathsig, stop on
// SIGTERM); otherwise it is on its own.
func RunWorker(ctx context.Context, cfg WorkerConfig) error {
	work := func(ctx context.Context, index int, ready func()) error {
		// A worker may start before its broker: it waits for it.
		nc, err := queue.Dial(cfg.NATS, "flipbench worker", nats.RetryOnFailedConnect(true))
		if err != nil {
			return err
		}
		defer nc.Close()
		return queue.RunWorker(ctx, queue.WorkerConfig{
			Conn: nc, Image: cfg.Image, TempDir: cfg.TempDir, MaxPixels: cfg.MaxPixels,
			Slots: cfg.Slots, Index: index, Logger: cfg.Logger, Ready: ready,
		})
	}
	if !prefork.IsWorker() {
		return work(ctx, -1, func() {})
	}
	w, err := prefork.NewSocketlessWorker()
	if err != nil {
		return err
	}
	cfg.Logger = cfg.Logger.With("worker", w.Index())
	return w.Run(ctx, func(ctx context.Context, ready func()) error { return work(ctx, w.Index(), ready) })
}
