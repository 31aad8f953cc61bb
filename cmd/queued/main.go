// Command queued serves the flip app the way the article concludes a server
// should scale past one machine: an HTTP front that flips nothing itself
// puts each job on a NATS JetStream queue, and worker processes, here or on
// other hosts, pull jobs while they have a free slot.
//
//	queued [flags]                       the front, an embedded NATS server, -workers local workers
//	queued worker -nats URL [flags]      one worker, anywhere
//
// POST /flip waits for its job's result, as the other servers do; POST
// /jobs answers 202 at once, and GET /jobs/{id} follows the job. GET
// /metrics serves the front's and its local workers' metrics; a worker on
// its own serves its own with -metrics-addr.
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
	"syscall"
	"time"

	"github.com/flipbench/flipbench/contract"
	"github.com/flipbench/flipbench/job"
	"github.com/flipbench/flipbench/logx"
	"github.com/flipbench/flipbench/queue"
	"github.com/flipbench/flipbench/queued"
	"github.com/flipbench/flipbench/server"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run runs the command line args and returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var err error
	if len(args) > 0 && args[0] == contract.CommandWorker {
		err = runWorker(ctx, args[1:], stderr)
	} else {
		err = runFront(ctx, args, stderr)
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
	default:
		fmt.Fprintln(stderr, "queued:", err)
		return 1
	}
}

// errUsage marks a command line the flag package has already complained of.
var errUsage = errors.New("usage")

// parse parses args into fs, refusing leftover arguments.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	return nil
}

func runFront(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("queued", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: queued [flags]\n       queued %s -%s URL [flags]\n\nServes GET /, GET /healthz, POST /flip and the async API (POST /jobs, GET /jobs/{id}, GET /jobs/{id}/result)\nfrom an HTTP front; jobs go through NATS JetStream to worker processes. Job states live on the broker,\nso several fronts on one broker answer for each other's jobs.\nSIGHUP: rolling restart of the local workers. SIGTERM, SIGINT: graceful stop.\n\nFlags:\n", contract.CommandWorker, contract.FlagNATS)
		fs.PrintDefaults()
	}
	cfg := queued.FrontConfig{}
	fs.IntVar(&cfg.Workers, contract.FlagWorkers, runtime.NumCPU(), "local worker processes, one job slot each (0 starts none)")
	fs.DurationVar(&cfg.Grace, contract.FlagGrace, 30*time.Second, "how long a stop waits for local workers to finish their jobs before killing them")
	fs.StringVar(&cfg.NATS, contract.FlagNATS, "", "`URL` of an external NATS server or cluster (comma-separated) instead of the embedded one")
	fs.StringVar(&cfg.NATSListen, contract.FlagNATSListen, queue.DefaultListen, "`address` of the embedded NATS server; a reachable one lets workers on other hosts join, and needs a credential (-"+contract.FlagNATSUser+", -"+contract.FlagNATSTokenFile+" or -"+contract.FlagNATSNkey+") (port 0 picks one; the log says which)")
	fs.StringVar(&cfg.NATSMonitor, contract.FlagNATSMonitor, "", "`address` of the embedded NATS server's monitoring endpoint (/varz, /jsz, ...: for the NATS tools, its Prometheus exporter, KEDA); off when empty; "+
		"it asks for no credential of its own, so beyond loopback it needs what -"+contract.FlagNATSListen+" does (port 0 picks one; the log says which)")
	fs.DurationVar(&cfg.AckWait, contract.FlagAckWait, queue.DefaultAckWait, "how long a delivered job may go without word from its worker before another gets it")
	fs.DurationVar(&cfg.ResultTTL, contract.FlagResultTTL, queue.DefaultResultTTL, "how long a finished job's state and result are kept")
	fs.IntVar(&cfg.MaxJobs, contract.FlagMaxJobs, queue.DefaultMaxJobs, "POST /flip jobs this front waits for at once (submitted jobs are bounded by -"+contract.FlagMaxQueue+" on the stream)")
	fs.IntVar(&cfg.Replicas, contract.FlagReplicas, 0, "replicas of the job stream, the state bucket and the upload bucket (default: 1 on the embedded server; with -"+contract.FlagNATS+", 3 when it names or reports at least 3 servers, else 1)")
	fs.DurationVar(&cfg.StartWait, contract.FlagNATSWait, queue.DefaultStartWait, "how long to wait at start for the broker to take the stream and buckets (a cluster elects its leaders first)")
	fs.DurationVar(&cfg.BrokerTimeout, contract.FlagBrokerTimeout, queue.OpBudget, "how long a request waits on the broker for one operation, retries over a leader election included, before answering 503")
	fs.DurationVar(&cfg.ResultTimeout, contract.FlagResultTimeout, queue.DefaultResultTimeout, "how long POST /flip waits for its job's result before answering 504")
	fs.BoolVar(&cfg.Insecure, contract.FlagNATSInsecure, false, "let the embedded NATS server listen beyond loopback without credentials: anyone who reaches it can read uploads and publish or delete jobs (logged as a warning)")
	nf := registerNATSFlags(fs, true)
	sf := server.RegisterFlags(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	switch {
	case cfg.Workers < 0:
		return fmt.Errorf("-%s %d: cannot be negative", contract.FlagWorkers, cfg.Workers)
	case cfg.NATS != "" && isSet(fs, contract.FlagNATSListen):
		return fmt.Errorf("-%s and -%s exclude each other", contract.FlagNATS, contract.FlagNATSListen)
	case cfg.NATS != "" && cfg.NATSMonitor != "":
		return fmt.Errorf("-%s is for the embedded server; an external one serves its own (its http_port)", contract.FlagNATSMonitor)
	case cfg.Replicas < 0 || cfg.Replicas > 5:
		return fmt.Errorf("-%s %d: want 1 to 5 (JetStream's range), or 0 for the default", contract.FlagReplicas, cfg.Replicas)
	case cfg.NATS == "" && cfg.Replicas > 1:
		return fmt.Errorf("-%s %d needs a NATS cluster (-%s): the embedded server is one node", contract.FlagReplicas, cfg.Replicas, contract.FlagNATS)
	case cfg.NATS != "" && cfg.Insecure:
		return fmt.Errorf("-%s is for the embedded server; it excludes -%s", contract.FlagNATSInsecure, contract.FlagNATS)
	}
	if err := noSecretInURL(cfg.NATS); err != nil {
		return err
	}
	var err error
	if cfg.Auth, cfg.TLS, err = nf.resolve(); err != nil {
		return err
	}
	cfg.WorkerArgs = nf.workerArgs()
	if err := sf.ResolveImage(); err != nil {
		return err
	}
	log, err := logx.New(stderr, sf.LogFormat, queued.Mode)
	if err != nil {
		return err
	}
	cfg.Server, cfg.Logger = *sf, log
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	restart := make(chan struct{}, 1)
	go func() {
		for {
			select {
			case <-hup:
				select {
				case restart <- struct{}{}:
				default: // one is pending
				}
			case <-ctx.Done():
				return
			}
		}
	}()
	cfg.Restart = restart
	return queued.RunFront(ctx, cfg)
}

func runWorker(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("queued "+contract.CommandWorker, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: queued %s -%s URL [flags]\n\nPulls flip jobs from the NATS server at URL while it has a free slot, until SIGTERM or SIGINT.\n\nFlags:\n", contract.CommandWorker, contract.FlagNATS)
		fs.PrintDefaults()
	}
	cfg := queued.WorkerConfig{}
	var logFormat string
	fs.StringVar(&cfg.NATS, contract.FlagNATS, "", "`URL` of the front's NATS server (or the cluster's, comma-separated); required")
	fs.IntVar(&cfg.Slots, contract.FlagSlots, runtime.GOMAXPROCS(0), "jobs at once")
	fs.DurationVar(&cfg.StartWait, contract.FlagNATSWait, queue.DefaultStartWait, "how long to wait at start for the broker and a front's stream")
	fs.StringVar(&cfg.Image, contract.FlagImage, "", "photo flipped by photo jobs (default "+contract.DefaultImage+", looked up as the front does)")
	fs.StringVar(&cfg.TempDir, contract.FlagTempDir, "", "base dir for the work dir (default the system temp dir)")
	fs.IntVar(&cfg.MaxPixels, contract.FlagMaxPixels, job.DefaultMaxPixels, "pixel limit for uploads and the photo")
	fs.StringVar(&logFormat, contract.FlagLogFormat, contract.DefaultLogFormat, "log format: text or json")
	fs.StringVar(&cfg.MetricsAddr, contract.FlagMetricsAddr, "", "`address` where this worker serves GET /metrics (its job, queue wait and ack histograms, its redeliveries); off when empty")
	nf := registerNATSFlags(fs, false)
	if err := parse(fs, args); err != nil {
		return err
	}
	var err error
	if cfg.Auth, cfg.TLS, err = nf.resolve(); err != nil {
		return err
	}
	if cfg.NATS == "" {
		return fmt.Errorf("-%s URL is required", contract.FlagNATS)
	}
	if err := noSecretInURL(cfg.NATS); err != nil {
		return err
	}
	if cfg.Slots < 1 {
		return fmt.Errorf("-%s %d: want at least 1", contract.FlagSlots, cfg.Slots)
	}
	img := server.Flags{Config: server.Config{Image: cfg.Image}}
	if err := img.ResolveImage(); err != nil {
		return err
	}
	cfg.Image = img.Image
	log, err := logx.New(stderr, logFormat, queued.Mode)
	if err != nil {
		return err
	}
	cfg.Logger = log.With("role", "worker")
	return queued.RunWorker(ctx, cfg)
}

// isSet reports whether the flag called name was given.
func isSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}
