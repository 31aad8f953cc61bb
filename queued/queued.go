// Package queued is the queued mode: an HTTP front that flips nothing
// itself, a NATS broker, and worker processes that pull jobs from it (see
// package queue for the decisions). RunFront is the front and its local
// workers; RunWorker is one worker, started by a front or on its own.
package queued

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"golang.org/x/sys/unix"

	"github.com/flipbench/flipbench/contract"
	"github.com/flipbench/flipbench/internal/access"
	"github.com/flipbench/flipbench/internal/monitor"
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
	// NATSMonitor is the embedded server's monitoring address (/varz,
	// /jsz, ...); "" serves none.
	NATSMonitor string
	// Auth is the credential the front presents to an external server, or
	// that the embedded one demands of every client.
	Auth queue.Auth
	// TLS is the front's client certificate files with NATS, or the
	// embedded server's certificate.
	TLS queue.TLS
	// Insecure lets the embedded server listen beyond loopback without
	// credentials (with a warning).
	Insecure bool
	// WorkerArgs are the flags that give local workers the credential and
	// the CA (file names and a user name only; a secret from the
	// environment reaches them by inheritance).
	WorkerArgs []string
	Workers    int // local worker processes
	Grace      time.Duration
	AckWait    time.Duration
	ResultTTL  time.Duration
	MaxJobs    int
	// Replicas of the stream and the buckets; 0 picks: 1 on the embedded
	// server, 3 on an external one that knows of at least 3 servers, else 1.
	Replicas int
	// StartWait bounds the wait for the broker at start (a front's and its
	// local workers').
	StartWait time.Duration
	// ResultTimeout bounds a POST /flip's wait for its result.
	ResultTimeout time.Duration
	// BrokerTimeout bounds each broker operation of a request (then 503).
	BrokerTimeout time.Duration
	// Restart asks for a rolling restart of the local workers (SIGHUP).
	Restart <-chan struct{}
	Logger  *slog.Logger
}

// replicas is cfg.Replicas, or the default for the broker nc reaches.
func replicas(cfg FrontConfig, nc *nats.Conn) int {
	switch {
	case cfg.Replicas > 0:
		return cfg.Replicas
	case cfg.NATS != "" && len(nc.Servers()) >= 3:
		return 3
	default:
		return 1
	}
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
	// What processes killed before us left behind, their NATS stores too.
	if err := job.RemoveStale(tmp); err != nil {
		return err
	}
	nc, url, closeBroker, err := broker(cfg, tmp)
	if err != nil {
		return err
	}
	defer closeBroker()
	defer nc.Close()
	n := replicas(cfg, nc)

	front, err := queue.NewFront(ctx, queue.FrontConfig{
		Conn: nc, AckWait: cfg.AckWait, ResultTTL: cfg.ResultTTL, MaxJobs: cfg.MaxJobs,
		MaxQueue: cfg.Server.MaxQueue, ResultTimeout: cfg.ResultTimeout, Replicas: n, StartWait: cfg.StartWait,
		BrokerTimeout: cfg.BrokerTimeout,
		Logger:        log,
	})
	if err != nil {
		return err
	}
	defer front.Close()
	log.Info("nats ready", "url", url, "embedded", cfg.NATS == "", "replicas", n)

	sc := cfg.Server.Config
	sc.Mode, sc.Worker, sc.Workers, sc.Logger, sc.Jobs = Mode, -1, 1, log, front
	srv, err := server.New(sc)
	if err != nil {
		return err
	}
	defer srv.Close()

	// Handlers are added before Serve; the local workers' series join
	// the registry once their master exists.
	metricsReg := monitor.ProcessRegistry(srv, srv.Metrics(), front.Metrics())
	srv.Handle(contract.PathMetrics, monitor.Handler(metricsReg))

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
		metricsReg.MustRegister(monitor.NewSeriesCollector(m.Totals,
			monitor.MetricJobDuration, monitor.MetricQueueWait, monitor.MetricAckDuration, monitor.MetricRedeliveries))
		go func() { workersDone <- m.Run(workersCtx) }()
		go func() {
			for {
				select {
				case <-cfg.Restart:
					log.Info("rolling restart of the local workers")
					m.Restart()
				case <-workersCtx.Done():
					return
				}
			}
		}()
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
		opts, err := clientOptions(cfg.Auth, cfg.TLS)
		if err != nil {
			return nil, "", nil, err
		}
		// The broker may start after the front: NewFront waits for it, bounded.
		nc, err := queue.Dial(cfg.NATS, "flipbench front", append(opts, nats.RetryOnFailedConnect(true))...)
		return nc, cfg.NATS, func() {}, err
	}
	addr := cfg.NATSListen
	if addr == "" {
		addr = queue.DefaultListen
	}
	if err := checkEmbedded(cfg, addr); err != nil {
		return nil, "", nil, err
	}
	emb, err := queue.StartEmbedded(queue.EmbeddedConfig{
		Listen: addr, TempDir: tmp, Auth: cfg.Auth, TLS: cfg.TLS, Insecure: cfg.Insecure, Monitor: cfg.NATSMonitor,
	})
	if errors.Is(err, queue.ErrNoCredentials) {
		return nil, "", nil, fmt.Errorf("%w: set -%s (with -%s or $%s), -%s (or $%s) or -%s; or -%s to run an open broker",
			err, contract.FlagNATSUser, contract.FlagNATSPasswordFile, contract.EnvNATSPassword,
			contract.FlagNATSTokenFile, contract.EnvNATSToken, contract.FlagNATSNkey, contract.FlagNATSInsecure)
	}
	if err != nil {
		return nil, "", nil, err
	}
	nc, err = emb.Connect(nats.Name("flipbench front"))
	if err != nil {
		emb.Close()
		return nil, "", nil, err
	}
	if u := emb.MonitorURL(); u != "" {
		cfg.Logger.Info("nats monitoring", "role", "front", "url", u)
		if !access.Loopback(cfg.NATSMonitor) {
			cfg.Logger.Warn("the NATS monitoring endpoint asks for no credential: anyone who reaches it reads the server's state, its connections and its streams",
				"role", "front", "nats_monitor", cfg.NATSMonitor)
		}
	}
	return nc, emb.URL(), func() {
		if err := emb.Close(); err != nil {
			cfg.Logger.Warn("close nats", "role", "front", "err", err)
		}
	}, nil
}

// checkEmbedded warns of an embedded broker open beyond loopback, and
// refuses a TLS certificate that local workers, dialling loopback, would
// not accept.
func checkEmbedded(cfg FrontConfig, addr string) error {
	if !access.Loopback(addr) {
		switch {
		case !cfg.Auth.Set() && cfg.Insecure:
			cfg.Logger.Warn("the NATS server takes anyone: every upload can be read, and jobs published or deleted, from any host that reaches it",
				"role", "front", "nats_listen", addr, "flag", "-"+contract.FlagNATSInsecure)
		case cfg.Auth.Set() && !cfg.TLS.Set():
			cfg.Logger.Warn("the NATS server has no TLS: credentials and uploads cross the network in clear text",
				"role", "front", "nats_listen", addr)
		}
	}
	if cfg.TLS.Cert == "" && cfg.TLS.CA != "" {
		return fmt.Errorf("-%s without -%s: the embedded NATS server has no certificate for the CA to verify", contract.FlagNATSCA, contract.FlagNATSCert)
	}
	if cfg.Workers > 0 && cfg.TLS.Cert != "" {
		if err := cfg.TLS.VerifyFor("127.0.0.1"); err != nil {
			return fmt.Errorf("%w (local workers dial 127.0.0.1: add it to the certificate, or run -%s 0)", err, contract.FlagWorkers)
		}
	}
	return nil
}

// clientOptions are the nats.go options of a client with auth and tls.
func clientOptions(auth queue.Auth, tls queue.TLS) ([]nats.Option, error) {
	a, err := auth.ClientOptions()
	if err != nil {
		return nil, err
	}
	t, err := tls.ClientOptions()
	if err != nil {
		return nil, err
	}
	return append(a, t...), nil
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
		contract.Arg(contract.FlagNATSWait, cfg.StartWait.String()),
	}
	args = append(args, cfg.WorkerArgs...)
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
	StartWait time.Duration // bounds the wait for the broker and a front
	Auth      queue.Auth    // the broker's credential
	TLS       queue.TLS     // the CA that verifies the broker, and a client certificate
	// MetricsAddr, if set, is where a worker on its own serves GET
	// /metrics; a local worker's front serves its metrics instead.
	MetricsAddr string
	Logger      *slog.Logger
}

// RunWorker runs one worker until ctx is done. Started by a front's
// supervisor, it follows the prefork protocol (ready, Pdeathsig, stop on
// SIGTERM), and abandons its jobs and exits at once when the front dies;
// otherwise it is on its own.
func RunWorker(ctx context.Context, cfg WorkerConfig) error {
	abandon := context.Background() // never, for a worker on its own
	work := func(ctx context.Context, index int, metrics *queue.WorkerMetrics, ready func()) error {
		opts, err := clientOptions(cfg.Auth, cfg.TLS)
		if err != nil {
			return err
		}
		// A worker may start before its broker: it waits for it. A refused
		// credential is repeated, and nats.go then closes the connection.
		nc, err := queue.Dial(cfg.NATS, "flipbench worker", append(opts, nats.RetryOnFailedConnect(true))...)
		if err != nil {
			return err
		}
		defer nc.Close()
		// Abandoned: closing the connection ends a pending fetch at once.
		defer context.AfterFunc(abandon, nc.Close)()
		err = queue.RunWorker(ctx, queue.WorkerConfig{
			Conn: nc, Image: cfg.Image, TempDir: cfg.TempDir, MaxPixels: cfg.MaxPixels,
			Slots: cfg.Slots, Index: index, Logger: cfg.Logger, Ready: ready,
			StartWait: cfg.StartWait, Abandon: abandon, Metrics: metrics,
		})
		if last := nc.LastError(); err != nil && last != nil {
			// Say why the connection went: a refused credential, a certificate.
			return fmt.Errorf("%v: %w", last, err)
		}
		return err
	}
	metrics := queue.NewWorkerMetrics()
	if !prefork.IsWorker() {
		if cfg.MetricsAddr != "" {
			stop, err := serveWorkerMetrics(ctx, cfg.MetricsAddr, metrics, cfg.Logger)
			if err != nil {
				return err
			}
			defer stop()
		}
		return work(ctx, -1, metrics, func() {})
	}
	w, err := prefork.NewSocketlessWorker()
	if err != nil {
		return err
	}
	cfg.Logger = cfg.Logger.With("worker", w.Index())
	// The front died (kill -9): its broker, if embedded, is gone, and its
	// clients with it. Jobs held are left unacknowledged for another worker.
	var cancel context.CancelFunc
	abandon, cancel = context.WithCancel(context.Background())
	defer cancel()
	watchParent(os.Getppid(), cancel)
	// Its metrics go to the front with its heartbeat, which serves them.
	return w.RunReporting(ctx, metrics, func(ctx context.Context, ready func()) error {
		return work(ctx, w.Index(), metrics, ready)
	})
}

// watchParent calls gone when the parent process ppid exits: its pidfd
// turns readable then, so no polling is needed. A parent gone before the
// pidfd opened shows as a changed parent pid. Without pidfds (Linux < 5.3)
// it watches nothing, and Pdeathsig stops the worker gracefully.
func watchParent(ppid int, gone func()) {
	fd, err := unix.PidfdOpen(ppid, 0)
	switch {
	case os.Getppid() != ppid:
		gone()
		fallthrough
	case err != nil:
		if err == nil {
			unix.Close(fd)
		}
		return
	}
	go func() {
		defer unix.Close(fd)
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		for {
			n, err := unix.Poll(fds, -1)
			if errors.Is(err, unix.EINTR) {
				continue
			}
			if n > 0 || err != nil {
				gone()
				return
			}
		}
	}()
}
