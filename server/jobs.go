package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/flipbench/flipbench/job"
)

// Jobs runs the flip jobs of POST /flip: in this process (the local runner
// behind its limiter), or somewhere else (the queued front's broker client).
type Jobs interface {
	// Capacity is how many jobs run at once (0 while nothing can run one).
	Capacity() int
	// Load is how many jobs are running and how many wait.
	Load() (running, queued int)
	// Photo runs the article's job on the server's photo.
	Photo(ctx context.Context) (Outcome, error)
	// Upload flips an image whose header the caller has checked.
	Upload(ctx context.Context, data []byte) (Outcome, error)
}

// Outcome is what one job did, wherever it ran. Its times are set as far as
// the job got, also when it failed.
type Outcome struct {
	PID    int           // the process that ran the job
	Worker int           // its index in a cluster, -1 otherwise
	Queue  time.Duration // from admission (or publication) to the job's start
	Job    time.Duration
	Bytes  int64     // the photo's size (photo jobs)
	Steps  job.Steps // the photo job's steps
	Format string    // an upload's format: "jpeg", "png" or "gif"
	Image  []byte    // an upload, flipped
}

// local runs jobs in this process, Capacity at a time, the rest waiting in
// FIFO order.
type local struct {
	engine     job.Engine
	runner     *job.Runner
	limiter    *job.Limiter
	maxPixels  int
	pid        int
	worker     int
	jobTimeout time.Duration
	onOverrun  func()
	metrics    *metrics
}

func newLocal(cfg Config, m *metrics) (*local, error) {
	runner, err := cfg.Engine.NewRunner(cfg.Image, cfg.TempDir, cfg.MaxPixels)
	if err != nil {
		return nil, err
	}
	return &local{
		engine:     cfg.Engine,
		runner:     runner,
		limiter:    job.NewLimiter(cfg.Capacity, cfg.MaxQueue),
		maxPixels:  cfg.MaxPixels,
		pid:        os.Getpid(),
		worker:     cfg.Worker,
		jobTimeout: cfg.JobTimeout,
		onOverrun:  cfg.OnJobOverrun,
		metrics:    m,
	}, nil
}

func (l *local) Capacity() int { return l.limiter.Capacity() }

func (l *local) Load() (running, queued int) { return l.limiter.Running(), l.limiter.Queued() }

// run waits for a slot and runs f in it, for at most the job timeout.
func (l *local) run(ctx context.Context, f func(context.Context, *Outcome) error) (Outcome, error) {
	out := Outcome{PID: l.pid, Worker: l.worker}
	start := time.Now()
	release, err := l.limiter.Acquire(ctx)
	if err != nil {
		return out, err
	}
	out.Queue = time.Since(start)
	l.metrics.waits.WithLabelValues().Observe(out.Queue.Seconds())
	f = l.timed(f)
	start = time.Now()
	if l.jobTimeout <= 0 {
		defer release()
		err = f(ctx, &out)
		out.Job = time.Since(start)
		return out, err
	}
	// The job keeps its slot until it really ends, even after its request
	// has had its answer: the slot is a core, and the job still uses it.
	jctx, cancel := context.WithTimeout(ctx, l.jobTimeout)
	type result struct {
		out Outcome
		err error
	}
	done := make(chan result, 1)
	o := out // the job's own copy: out may be answered while it runs
	go func() {
		defer release()
		defer cancel()
		err := f(jctx, &o)
		done <- result{o, err}
	}()
	select {
	case r := <-done:
		r.out.Job = time.Since(start)
		if errors.Is(r.err, context.DeadlineExceeded) && ctx.Err() == nil {
			r.err = fmt.Errorf("%w (%v, stopped at a step boundary): %v", ErrJobOverran, l.jobTimeout, r.err) // %v: a deadline error would map to 408
		}
		return r.out, r.err
	case <-jctx.Done():
		if ctx.Err() != nil { // the client left: not the job's fault
			return out, ctx.Err()
		}
		out.Job = time.Since(start)
		if l.onOverrun != nil {
			l.onOverrun()
		}
		return out, fmt.Errorf("%w: still running after %v", ErrJobOverran, l.jobTimeout)
	}
}

// timed is f recording how long it ran, to its real end: past a job
// timeout's answer too, since the slot is busy until then.
func (l *local) timed(f func(context.Context, *Outcome) error) func(context.Context, *Outcome) error {
	return func(ctx context.Context, out *Outcome) error {
		start := time.Now()
		defer func() { l.metrics.jobs.WithLabelValues().Observe(time.Since(start).Seconds()) }()
		return f(ctx, out)
	}
}

// ErrJobOverran is returned for a job that ran past Config.JobTimeout;
// its answer is 503 with Retry-After: the job was not done, and another
// process may do it.
var ErrJobOverran = errors.New("job overran its deadline")

func (l *local) Photo(ctx context.Context) (Outcome, error) {
	return l.run(ctx, func(ctx context.Context, out *Outcome) error {
		res, err := l.runner.Run(ctx)
		out.Bytes, out.Steps = res.Bytes, res.Steps
		return err
	})
}

func (l *local) Upload(ctx context.Context, data []byte) (Outcome, error) {
	return l.run(ctx, func(_ context.Context, out *Outcome) error {
		var buf bytes.Buffer
		format, err := l.engine.FlipBytes(data, &buf, l.maxPixels)
		out.Format, out.Image = format, buf.Bytes()
		return err
	})
}
