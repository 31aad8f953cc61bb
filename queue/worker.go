package queue

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"

	"github.com/flipbench/flipbench/contract"
	"github.com/flipbench/flipbench/job"
)

// fetchWait is how long one pull request waits for a job: a stopping worker
// notices within it.
const fetchWait = time.Second

// maxAttempts is how many deliveries a job gets: a job that keeps killing
// its workers fails instead of going round for ever.
const maxAttempts = 5

// WorkerConfig is what a worker needs.
type WorkerConfig struct {
	Conn      *nats.Conn
	Image     string // the photo of photo jobs
	TempDir   string // base of the work dir ("" is os.TempDir())
	MaxPixels int    // 0 is job.DefaultMaxPixels
	Slots     int    // jobs at once; 0 is 1
	Index     int    // index among the front's local workers, -1 elsewhere
	// StartWait bounds the wait for a front to set up the queue; 0 is
	// DefaultStartWait.
	StartWait time.Duration
	// Abandon, when done, makes the worker drop the jobs it holds (no
	// result, no ack: they go to another worker after AckWait) and return
	// at once; nil is never.
	Abandon context.Context
	Logger  *slog.Logger
	// Ready is called once the worker is bound to the queue and fetching.
	Ready func()
	// Metrics records the worker's job, wait and ack times and its
	// redeliveries; nil keeps them nowhere.
	Metrics *WorkerMetrics
}

// worker is RunWorker's state.
type worker struct {
	cfg     WorkerConfig
	id      string
	pid     int
	host    string
	runner  *job.Runner
	blobs   jetstream.ObjectStore
	states  states
	ackWait time.Duration
	log     *slog.Logger
}

// RunWorker runs jobs from the queue, Slots at a time, until ctx is done; it
// then finishes (and acknowledges) the jobs it holds and returns nil. Each
// slot pulls one job only while it is free.
func RunWorker(ctx context.Context, cfg WorkerConfig) error {
	if cfg.Slots < 1 {
		cfg.Slots = 1
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	runner, err := job.NewRunner(cfg.Image, cfg.TempDir, cfg.MaxPixels)
	if err != nil {
		return err
	}
	defer runner.Close()
	js, err := jetstream.New(cfg.Conn)
	if err != nil {
		return fmt.Errorf("jetstream: %w", err)
	}
	if cfg.StartWait <= 0 {
		cfg.StartWait = DefaultStartWait
	}
	if cfg.Abandon == nil {
		cfg.Abandon = context.Background()
	}
	bindCtx, cancel := context.WithTimeout(ctx, cfg.StartWait)
	b, err := bind(bindCtx, js, cfg.Logger)
	cancel()
	if err != nil {
		return err
	}
	cons := b.cons
	host, _ := os.Hostname()
	w := &worker{
		cfg: cfg, id: nuid.Next(), pid: os.Getpid(), host: host, runner: runner, blobs: b.blobs, states: b.states,
		ackWait: cons.CachedInfo().Config.AckWait, log: cfg.Logger,
	}
	hbCtx, stopBeats := context.WithCancel(context.WithoutCancel(ctx))
	defer context.AfterFunc(cfg.Abandon, stopBeats)()
	beats := make(chan struct{})
	go func() { defer close(beats); w.heartbeat(hbCtx) }()

	var wg sync.WaitGroup
	for range cfg.Slots {
		wg.Go(func() { w.slot(ctx, cons) })
	}
	w.log.Info("worker fetching", "slots", cfg.Slots, "ack_wait", w.ackWait, "nats", cfg.Conn.ConnectedUrlRedacted())
	if cfg.Ready != nil {
		cfg.Ready()
	}
	wg.Wait()
	stopBeats()
	<-beats
	if cfg.Abandon.Err() != nil {
		w.log.Info("worker abandoned its jobs")
		return nil
	}
	if err := cfg.Conn.FlushTimeout(opTimeout); err != nil {
		return fmt.Errorf("flush results: %w", err)
	}
	w.log.Info("worker stopped")
	return nil
}

// slot fetches and runs one job at a time until ctx is done.
func (w *worker) slot(ctx context.Context, cons jetstream.Consumer) {
	for ctx.Err() == nil && w.cfg.Abandon.Err() == nil {
		batch, err := cons.Fetch(1, jetstream.FetchMaxWait(fetchWait))
		if err != nil {
			w.log.Warn("fetch", "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(fetchWait):
			}
			continue
		}
		for msg := range batch.Messages() {
			if ctx.Err() != nil {
				// Stopping: hand it straight back rather than let it wait out AckWait.
				_ = msg.Nak()
				continue
			}
			// A job taken is finished, even when the worker is told to
			// stop, unless it is told to abandon its jobs.
			w.handle(w.cfg.Abandon, msg)
		}
		if err := batch.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) && ctx.Err() == nil {
			w.log.Debug("fetch batch", "err", err)
		}
	}
}

// handle runs one job: it says it started, keeps the message from being
// redelivered while the job runs, publishes the result, then acknowledges.
func (w *worker) handle(ctx context.Context, msg jetstream.Msg) {
	j, err := decodeJob(msg.Data())
	res := resultMsg{ID: j.ID, PID: w.pid, Worker: w.cfg.Index, Host: w.host}
	if err != nil {
		// Never redelivered: it would fail the same way on every worker.
		_ = msg.Term()
		w.log.Error("dropping a malformed job", "err", err)
		if validReply(j.Reply) && validID(j.ID) {
			// Enough of it is readable to tell its front, whose waiter
			// would otherwise wait for ever.
			res.Error = err.Error()
			w.publish(j.Reply+doneLeaf, res)
		}
		return
	}
	meta, err := msg.Metadata()
	if err == nil && meta.NumDelivered > maxAttempts {
		res.Error = fmt.Sprintf("job delivered %d times: its workers died running it", meta.NumDelivered)
		w.publish(j.Reply+doneLeaf, res)
		_ = msg.Term()
		return
	}
	if err == nil {
		if meta.NumDelivered > 1 {
			w.cfg.Metrics.redelivered()
		}
		// From its publication (the broker's clock) to its slot here; a
		// redelivered job's includes its earlier attempts.
		w.cfg.Metrics.wait(time.Since(meta.Timestamp))
	}
	stop := w.keepInProgress(msg)
	defer stop()
	if j.Async && !w.markStarted(ctx, j.ID) {
		// Finished by an earlier delivery: do not run it again.
		_ = msg.Ack()
		return
	}
	w.publish(j.Reply+startedLeaf, startedMsg{ID: j.ID, PID: w.pid, Worker: w.cfg.Index})

	start := time.Now()
	err = w.run(ctx, j, &res)
	res.JobTime = time.Since(start)
	w.cfg.Metrics.job(res.JobTime)
	ended := time.Now()
	if ctx.Err() != nil {
		w.log.Warn("abandoning a job", "err", err)
		return
	}
	if err != nil {
		res.Error, res.Kind = err.Error(), errorKind(err)
	}
	if j.Async {
		if !w.markFinished(ctx, res) {
			// Acked, it would read running for ever: left unacked, it runs
			// again after AckWait and a later delivery records it. A front
			// that dies as the job ends (Abandon) lands here.
			return
		}
	} else {
		// The waiting front hears of the result as an event; should it miss
		// it (reconnecting to another broker node), it reads it here.
		if err := w.states.put(ctx, j.ID, finalRecord(res)); err != nil {
			w.log.Warn("record job result", "err", err)
		}
	}
	w.publish(j.Reply+doneLeaf, res)
	if j.Upload {
		w.deleteInput(ctx, j.ID)
	}
	// The ack follows the result on the same connection, which the server
	// reads in order: an ack that arrives means the result did, and a
	// worker dying before both left gets the job run again. So no flush
	// (a round trip per job) in between.
	if err := msg.Ack(); err != nil {
		w.log.Warn("ack", "id", j.ID, "err", err)
		return
	}
	w.cfg.Metrics.ack(time.Since(ended))
}

// keepInProgress tells the server every third of AckWait that the job is
// still running, so a long job is not handed to a second worker. AckWait
// starts at delivery, and a worker fetches only with a free slot, so a deep
// queue never eats into it.
func (w *worker) keepInProgress(msg jetstream.Msg) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(max(w.ackWait/3, 10*time.Millisecond))
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if err := msg.InProgress(); err != nil {
					w.log.Warn("in-progress ack", "err", err)
				}
			}
		}
	}()
	return sync.OnceFunc(func() { close(done); <-finished })
}

// markStarted moves job id's state to running; false when an earlier
// delivery has finished it. A state that cannot be written does not stop
// the job: its result matters more.
func (w *worker) markStarted(ctx context.Context, id string) bool {
	again := false
	_, err := w.states.change(ctx, id, func(r *record, e jetstream.KeyValueEntry) bool {
		if r.finished() {
			again = true
			return false
		}
		if r.State == contract.JobQueued {
			r.QueuedAt = e.Created()
		}
		r.State, r.PID = contract.JobRunning, w.pid
		return true
	})
	if err != nil {
		w.log.Warn("record job start", "err", err)
	}
	return !again
}

// markFinished records res as job res.ID's result, unless another delivery
// of the job got there first; false when the record could not be written.
func (w *worker) markFinished(ctx context.Context, res resultMsg) bool {
	_, err := w.states.change(ctx, res.ID, func(r *record, e jetstream.KeyValueEntry) bool {
		if r.finished() {
			return false
		}
		if r.State == contract.JobRunning && !r.QueuedAt.IsZero() {
			// From queued to running, both on the broker's clock.
			r.Queue = max(e.Created().Sub(r.QueuedAt), 0)
		}
		r.State, r.PID, r.Result = finalRecord(res).State, res.PID, &res
		return true
	})
	if err != nil {
		w.log.Error("record job result", "err", err)
	}
	return err == nil
}

// deleteInput removes an upload once its result is out; the bucket's TTL
// removes what a failure here leaves.
func (w *worker) deleteInput(ctx context.Context, id string) {
	err := budget(OpBudget).run(ctx, "delete upload", func(ctx context.Context) error { return w.blobs.Delete(ctx, id+inputSuffix) })
	if err != nil && !errors.Is(err, jetstream.ErrObjectNotFound) {
		w.log.Warn("delete upload", "err", err)
	}
}

// run does the job and fills in res.
func (w *worker) run(ctx context.Context, j jobMsg, res *resultMsg) error {
	if !j.Upload {
		r, err := w.runner.Run(ctx)
		res.Bytes, res.Steps = r.Bytes, r.Steps
		return err
	}
	var in []byte
	err := budget(OpBudget).run(ctx, "fetch upload", func(ctx context.Context) (err error) {
		in, err = w.blobs.GetBytes(ctx, j.ID+inputSuffix)
		return err
	})
	if err != nil {
		return fmt.Errorf("fetch upload: %w", err)
	}
	var out bytes.Buffer
	res.Format, err = job.FlipBytes(in, &out, w.cfg.MaxPixels)
	if err != nil {
		return err
	}
	err = budget(OpBudget).run(ctx, "store flipped upload", func(ctx context.Context) error {
		_, err := w.blobs.PutBytes(ctx, j.ID+outputSuffix, out.Bytes())
		return err
	})
	if err != nil {
		return fmt.Errorf("store flipped upload: %w", err)
	}
	return nil
}

// publish sends v as JSON on subject (core NATS: the front listens).
func (w *worker) publish(subject string, v any) {
	data, err := json.Marshal(v)
	if err == nil {
		err = w.cfg.Conn.Publish(subject, data)
	}
	if err != nil {
		w.log.Error("publish", "subject", subject, "err", err)
	}
}

// heartbeat tells fronts every heartbeatPeriod that this worker is live and
// how many slots it has, and that it leaves when ctx is done.
func (w *worker) heartbeat(ctx context.Context) {
	hb := heartbeatMsg{ID: w.id, PID: w.pid, Host: w.host, Slots: w.cfg.Slots}
	w.publish(workersSubject, hb)
	t := time.NewTicker(heartbeatPeriod)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			hb.Slots = 0
			w.publish(workersSubject, hb)
			return
		case <-t.C:
			w.publish(workersSubject, hb)
		}
	}
}
