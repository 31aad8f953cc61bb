// Package server is the echo app every Go mode serves: GET / answers the pid,
// GET /healthz the process's state, POST /flip runs the flip job through Jobs
// (by default in this process, behind a FIFO limiter). Given Jobs that are a
// Queue, it also serves the asynchronous API (POST /jobs, GET /jobs/{id},
// GET /jobs/{id}/result). It knows nothing of processes: a caller hands it a
// listener.
package server

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"golang.org/x/sync/semaphore"

	"github.com/flipbench/flipbench/contract"
	"github.com/flipbench/flipbench/job"
	"github.com/flipbench/flipbench/prefork/jobstats"
)

// uploadBudget is how many largest-possible upload bodies a server holds at once;
// later uploads wait, unread, in FIFO order.
const uploadBudget = 4

// readTimeout bounds a request's headers and body together. A queue can be
// minutes deep (ceil(1000/capacity) jobs of 0.83 s before an answer starts),
// so there is no write timeout; the header and idle timeouts are flags.
const readTimeout = 2 * time.Minute

// Config is what a Server needs; zero values take the defaults noted.
type Config struct {
	Mode    string // "standard", "threaded", "clustered", "queued"
	Worker  int    // worker index in a cluster, -1 otherwise
	Workers int    // processes serving the address; 0 is 1
	// WorkersNow, if set, is Workers as it is now, for a cluster that
	// scales at runtime (prefork.Worker.Workers).
	WorkersNow      func() int
	Image           string        // photo for POST /flip with no body
	TempDir         string        // base dir for the per-process work dir; "" is os.TempDir()
	MaxQueue        int           // jobs that may wait; 0 is job.DefaultMaxQueue
	MaxBody         int64         // upload limit in bytes; 0 is contract.DefaultMaxBody
	MaxPixels       int           // pixel limit; 0 is job.DefaultMaxPixels
	Capacity        int           // jobs at once; 0 is runtime.GOMAXPROCS(0)
	Engine          job.Engine    // the image library of local jobs; the zero Engine is imaging
	ShutdownTimeout time.Duration // 0 waits for every accepted request
	HeaderTimeout   time.Duration // for a request's headers; 0 is contract.DefaultHeaderTimeout
	IdleTimeout     time.Duration // for a kept-alive connection's next request; 0 is contract.DefaultIdleTimeout
	Logger          *slog.Logger  // nil discards
	// JobTimeout bounds one running job (not its wait in the queue); 0 is
	// none. The job's context ends then, which stops it at its next step;
	// its request is answered 503 (ErrJobOverran) at once either way, and
	// OnJobOverrun is called, because a step that does not watch a context
	// (imaging's decode, flip and encode) may still hold the job slot.
	JobTimeout   time.Duration
	OnJobOverrun func() // e.g. a cluster worker asking to be replaced; nil is nothing
	// Wrap, if set, wraps the app's handler: the fault injection of test
	// builds (cmd/clustered's flipbench_faults tag); nil in release builds.
	Wrap func(http.Handler) http.Handler
	// Jobs runs the jobs; nil runs them in this process on Image, Capacity at
	// a time. Jobs given here are the caller's to close.
	Jobs Jobs
}

// Server is the app and the state /healthz reports.
type Server struct {
	cfg     Config
	pid     int
	log     *slog.Logger
	jobs    Jobs
	local   *local              // the jobs when they run in this process, else nil
	uploads *semaphore.Weighted // bytes of upload bodies held at once
	echo    *echo.Echo
	started time.Time
	done    atomic.Int64
	failed  atomic.Int64
	lastJob atomic.Int64 // nanoseconds of the last job, for Retry-After
	metrics *metrics
}

// New checks the photo, prepares the work dir and builds the routes.
func New(cfg Config) (*Server, error) {
	if cfg.MaxQueue == 0 {
		cfg.MaxQueue = job.DefaultMaxQueue
	}
	if cfg.MaxQueue < 0 {
		return nil, fmt.Errorf("max queue %d: must not be negative", cfg.MaxQueue)
	}
	if cfg.MaxBody == 0 {
		cfg.MaxBody = contract.DefaultMaxBody
	}
	if cfg.MaxBody < 0 {
		return nil, fmt.Errorf("max body %d: must not be negative", cfg.MaxBody)
	}
	if cfg.MaxPixels == 0 {
		cfg.MaxPixels = job.DefaultMaxPixels
	}
	if cfg.MaxPixels < 0 {
		return nil, fmt.Errorf("max pixels %d: must not be negative", cfg.MaxPixels)
	}
	if cfg.Capacity == 0 {
		cfg.Capacity = runtime.GOMAXPROCS(0)
	}
	if cfg.JobTimeout < 0 {
		return nil, fmt.Errorf("job timeout %v: must not be negative", cfg.JobTimeout)
	}
	if cfg.Workers == 0 {
		cfg.Workers = 1
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		cfg:     cfg,
		pid:     os.Getpid(),
		log:     cfg.Logger,
		jobs:    cfg.Jobs,
		uploads: semaphore.NewWeighted(uploadBudget * cfg.MaxBody),
		started: time.Now(),
		metrics: newMetrics(),
	}
	if s.jobs == nil {
		l, err := newLocal(cfg, s.metrics)
		if err != nil {
			return nil, err
		}
		s.jobs, s.local = l, l
	}
	s.echo = s.routes()
	return s, nil
}

// Capacity is the number of jobs that may run at once.
func (s *Server) Capacity() int { return s.jobs.Capacity() }

// Stats is the server's job counts: done and failed since it started,
// running and waiting now. It makes a Server a prefork.StatsReporter.
func (s *Server) Stats() jobstats.Stats {
	running, queued := s.jobs.Load()
	return jobstats.Stats{Done: s.done.Load(), Failed: s.failed.Load(), InFlight: running, Queued: queued}
}

// Handle serves h at GET path besides the app's own routes, e.g. a process's
// own metrics. Call it before Serve.
func (s *Server) Handle(path string, h http.Handler) {
	s.echo.GET(path, echo.WrapHandler(h))
	s.metrics.routes[path] = true
}

// Handler is the app, for tests and for callers that bring their own http.Server.
func (s *Server) Handler() http.Handler { return s.echo }

// Serve answers on ln until ctx is done, then stops gracefully as
// ServeGracefully does, waiting for the requests already accepted (up to
// Config.ShutdownTimeout). It returns nil after a clean stop.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	var h http.Handler = s.echo
	if s.cfg.Wrap != nil {
		h = s.cfg.Wrap(h)
	}
	hs := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: cmp.Or(s.cfg.HeaderTimeout, contract.DefaultHeaderTimeout),
		ReadTimeout:       readTimeout,
		IdleTimeout:       cmp.Or(s.cfg.IdleTimeout, contract.DefaultIdleTimeout),
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	s.log.Info("serving", "addr", ln.Addr().String(), "capacity", s.Capacity(), "gomaxprocs", runtime.GOMAXPROCS(0), "image", s.cfg.Image)
	stopLog := context.AfterFunc(ctx, func() {
		running, queued := s.jobs.Load()
		s.log.Info("shutting down", "in_flight", running, "queued", queued)
	})
	defer stopLog()
	if err := ServeGracefully(ctx, hs, ln, s.cfg.ShutdownTimeout); err != nil {
		return err
	}
	s.log.Info("stopped", "done", s.done.Load(), "failed", s.failed.Load())
	return nil
}

// Close removes the work dir of jobs run in this process.
func (s *Server) Close() error {
	if s.local == nil {
		return nil
	}
	return s.local.runner.Close()
}

// WorkDir is where jobs run in this process put their copies ("" when Jobs
// run elsewhere).
func (s *Server) WorkDir() string {
	if s.local == nil {
		return ""
	}
	return s.local.runner.Dir()
}

func (s *Server) routes() *echo.Echo {
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.HTTPErrorHandler = s.handleError
	// Outermost, so the time covers the whole chain and a panic's 500.
	e.Use(s.observe)
	e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{
		LogErrorFunc: func(c echo.Context, err error, stack []byte) error {
			s.log.Error("panic in handler", "path", c.Path(), "err", err, "stack", string(stack))
			return err
		},
	}))
	// On e.Use, not the route, so a 405 for a wrong method on /flip is stamped too.
	e.Use(s.timing)
	e.GET(contract.PathPID, s.handlePID)
	e.GET(contract.PathHealth, s.handleHealth)
	e.POST(contract.PathFlip, s.handleFlip)
	if q, ok := s.jobs.(Queue); ok {
		s.asyncRoutes(e, q)
	}
	for _, r := range e.Routes() {
		s.metrics.routes[r.Path] = true
	}
	s.metrics.start(s.local != nil)
	return e
}
