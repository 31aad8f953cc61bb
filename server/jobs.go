package server

import (
	"bytes"
	"context"
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
	engine    job.Engine
	runner    *job.Runner
	limiter   *job.Limiter
	maxPixels int
	pid       int
	worker    int
}

func newLocal(cfg Config) (*local, error) {
	runner, err := cfg.Engine.NewRunner(cfg.Image, cfg.TempDir, cfg.MaxPixels)
	if err != nil {
		return nil, err
	}
	return &local{
		engine:    cfg.Engine,
		runner:    runner,
		limiter:   job.NewLimiter(cfg.Capacity, cfg.MaxQueue),
		maxPixels: cfg.MaxPixels,
		pid:       os.Getpid(),
		worker:    cfg.Worker,
	}, nil
}

func (l *local) Capacity() int { return l.limiter.Capacity() }

func (l *local) Load() (running, queued int) { return l.limiter.Running(), l.limiter.Queued() }

// run waits for a slot and runs f in it.
func (l *local) run(ctx context.Context, f func(*Outcome) error) (Outcome, error) {
	out := Outcome{PID: l.pid, Worker: l.worker}
	start := time.Now()
	release, err := l.limiter.Acquire(ctx)
	if err != nil {
		return out, err
	}
	defer release()
	out.Queue = time.Since(start)
	start = time.Now()
	err = f(&out)
	out.Job = time.Since(start)
	return out, err
}

func (l *local) Photo(ctx context.Context) (Outcome, error) {
	return l.run(ctx, func(out *Outcome) error {
		res, err := l.runner.Run(ctx)
		out.Bytes, out.Steps = res.Bytes, res.Steps
		return err
	})
}

func (l *local) Upload(ctx context.Context, data []byte) (Outcome, error) {
	return l.run(ctx, func(out *Outcome) error {
		var buf bytes.Buffer
		format, err := l.engine.FlipBytes(data, &buf, l.maxPixels)
		out.Format, out.Image = format, buf.Bytes()
		return err
	})
}
