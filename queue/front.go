package queue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"

	"github.com/flipbench/flipbench/contract"
	"github.com/flipbench/flipbench/job"
	"github.com/flipbench/flipbench/server"
)

// Defaults of a front.
const (
	DefaultAckWait   = 10 * time.Second
	DefaultResultTTL = 10 * time.Minute
	DefaultMaxJobs   = 10000
	// DefaultResultTimeout bounds how long POST /flip waits for its job's
	// result: a burst of 1000 on the 6.7 MB photo and 2 cores takes about 7
	// minutes to drain.
	DefaultResultTimeout = 15 * time.Minute
	// DefaultStartWait bounds how long a front or a worker waits for its
	// broker at start (a cluster elects its leaders in a few seconds).
	DefaultStartWait = time.Minute
	// blobMargin keeps an upload in the bucket this long past the result
	// TTL, so a deep queue does not outlive its input.
	blobMargin = time.Hour
)

// FrontConfig is what a front needs; zero values take the defaults.
type FrontConfig struct {
	Conn      *nats.Conn
	AckWait   time.Duration // how long a delivered job may go without word from its worker
	ResultTTL time.Duration // how long a finished job's state and result are kept
	MaxJobs   int           // POST /flip jobs this front waits for at once; more get 503
	MaxQueue  int           // jobs on the stream at once, across fronts; more get 503
	// ResultTimeout bounds a POST /flip's wait for its result (then 504).
	ResultTimeout time.Duration
	// Replicas of the stream and the buckets; 0 is 1.
	Replicas int
	// StartWait bounds the wait for the broker to take the stream and
	// buckets.
	StartWait time.Duration
	// BrokerTimeout bounds each broker operation of a request, retries
	// included (then 503); 0 is OpBudget.
	BrokerTimeout time.Duration
	Logger        *slog.Logger
}

// Front is the HTTP front's side of the queue: it publishes jobs and follows
// the POST /flip ones through the workers' events; the state of submitted
// jobs is in the broker's StateBucket, so any front answers for any job. It
// is a server.Queue.
type Front struct {
	cfg     FrontConfig
	js      jetstream.JetStream
	blobs   jetstream.ObjectStore
	states  states
	budget  budget
	reply   string
	jobs    *table
	workers *presence
	subs    []*nats.Subscription
	log     *slog.Logger
	metrics frontMetrics
}

var _ server.Queue = (*Front)(nil)

// NewFront sets up the stream, the consumer and the buckets on cfg.Conn,
// waiting up to cfg.StartWait for the broker, and starts following the
// workers.
func NewFront(ctx context.Context, cfg FrontConfig) (*Front, error) {
	if cfg.AckWait <= 0 {
		cfg.AckWait = DefaultAckWait
	}
	if cfg.ResultTTL <= 0 {
		cfg.ResultTTL = DefaultResultTTL
	}
	if cfg.MaxJobs <= 0 {
		cfg.MaxJobs = DefaultMaxJobs
	}
	if cfg.MaxQueue <= 0 {
		cfg.MaxQueue = cfg.MaxJobs
	}
	if cfg.ResultTimeout <= 0 {
		cfg.ResultTimeout = DefaultResultTimeout
	}
	if cfg.Replicas <= 0 {
		cfg.Replicas = 1
	}
	if cfg.StartWait <= 0 {
		cfg.StartWait = DefaultStartWait
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	js, err := jetstream.New(cfg.Conn)
	if err != nil {
		return nil, fmt.Errorf("jetstream: %w", err)
	}
	l := layout{ackWait: cfg.AckWait, blobTTL: cfg.ResultTTL + blobMargin, stateTTL: cfg.ResultTTL + blobMargin,
		replicas: cfg.Replicas, maxQueue: cfg.MaxQueue}
	var (
		blobs jetstream.ObjectStore
		st    states
	)
	startCtx, cancel := context.WithTimeout(ctx, cfg.StartWait)
	defer cancel()
	err = waitForBroker(startCtx, cfg.Logger, fmt.Sprintf("JetStream to create %s with %d replicas", StreamName, cfg.Replicas),
		func(ctx context.Context) (err error) {
			if err := refused(cfg.Conn); err != nil {
				return err
			}
			blobs, st, err = setup(ctx, js, l)
			return err
		})
	if err != nil {
		return nil, err
	}
	st.budget = budget(cfg.BrokerTimeout)
	f := &Front{
		cfg: cfg, js: js, blobs: blobs, states: st, budget: st.budget, reply: frontPrefix + nuid.Next(),
		jobs:    newTable(cfg.MaxJobs),
		workers: &presence{seen: map[string]heartbeatMsg{}, at: map[string]time.Time{}},
		log:     cfg.Logger,
		metrics: newFrontMetrics(),
	}
	for subject, h := range map[string]nats.MsgHandler{
		f.reply + ".>": f.onEvent,
		workersSubject: f.workers.onHeartbeat,
	} {
		sub, err := cfg.Conn.Subscribe(subject, h)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("subscribe %s: %w", subject, err)
		}
		// Results of a burst arrive faster than a slow handler takes them:
		// drop nothing.
		_ = sub.SetPendingLimits(-1, -1)
		f.subs = append(f.subs, sub)
	}
	if err := cfg.Conn.Flush(); err != nil {
		f.Close()
		return nil, fmt.Errorf("subscribe: %w", err)
	}
	// Events sent while this front was reconnecting (its broker node died)
	// are lost to it; the results are in the state bucket.
	cfg.Conn.SetReconnectHandler(func(*nats.Conn) { go f.recheck() })
	return f, nil
}

// Close stops following the workers. Jobs still queued stay on the stream.
func (f *Front) Close() error {
	var errs []error
	for _, s := range f.subs {
		if err := s.Unsubscribe(); err != nil && !errors.Is(err, nats.ErrConnectionClosed) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Capacity is the job slots of the live workers.
func (f *Front) Capacity() int { return f.workers.slots(time.Now()) }

// Load is how many of this front's jobs run and how many wait.
func (f *Front) Load() (running, queued int) { return f.jobs.load() }

// Photo publishes a photo job and waits for its result.
func (f *Front) Photo(ctx context.Context) (server.Outcome, error) { return f.wait(ctx, nil) }

// Upload publishes an upload job and waits for the flipped image.
func (f *Front) Upload(ctx context.Context, data []byte) (server.Outcome, error) {
	return f.wait(ctx, data)
}

// Submit records a job in the state bucket, publishes it and returns its
// id. Its state is then in the broker, for any front to read.
func (f *Front) Submit(ctx context.Context, upload []byte) (string, error) {
	if err := f.admit(); err != nil {
		return "", err
	}
	id := NewJobID()
	if err := f.states.create(ctx, id, record{State: contract.JobQueued, Upload: upload != nil}); err != nil {
		return "", err
	}
	if err := f.send(ctx, id, upload, true); err != nil {
		f.forgetState(id)
		return "", err
	}
	return id, nil
}

// Status is where job id is. An id that is not one this package makes is
// unknown without a lookup.
func (f *Front) Status(ctx context.Context, id string) (server.JobState, bool, error) {
	if _, err := ParseJobID(id); err != nil {
		return server.JobState{}, false, nil
	}
	r, e, ok, err := f.states.get(ctx, id)
	if err != nil || !ok || expired(r, e, f.cfg.ResultTTL, time.Now()) {
		return server.JobState{}, false, err
	}
	return r.jobState(), true, nil
}

// Result is a done upload job's flipped image.
func (f *Front) Result(ctx context.Context, id string) (string, []byte, error) {
	// The same error for an id never issued and one expired: the answer
	// tells a guesser nothing.
	st, ok, err := f.Status(ctx, id)
	if err != nil {
		return "", nil, err
	}
	if !ok || !st.Upload || st.State != contract.JobDone {
		return "", nil, server.ErrNoResult
	}
	data, err := f.getBlob(ctx, id+outputSuffix)
	if errors.Is(err, jetstream.ErrObjectNotFound) {
		return "", nil, server.ErrNoResult
	}
	if err != nil {
		return "", nil, fmt.Errorf("read a job's result: %w", err)
	}
	return st.Outcome.Format, data, nil
}

// wait publishes a job and waits for its result, at most ResultTimeout; the
// job leaves the table with the answer.
func (f *Front) wait(ctx context.Context, upload []byte) (server.Outcome, error) {
	if err := f.admit(); err != nil {
		return server.Outcome{}, err
	}
	id := NewJobID()
	e, err := f.jobs.add(id, upload != nil, time.Now())
	if err != nil {
		return server.Outcome{}, err
	}
	defer f.jobs.forget(id)
	if err := f.send(ctx, id, upload, false); err != nil {
		return server.Outcome{}, err
	}
	timeout := time.NewTimer(f.cfg.ResultTimeout)
	defer timeout.Stop()
	select {
	case <-ctx.Done():
		return server.Outcome{}, fmt.Errorf("wait for job %s: %w", id, ctx.Err())
	case <-timeout.C:
		return server.Outcome{}, fmt.Errorf("no result for job %s within %s: %w", id, f.cfg.ResultTimeout, context.DeadlineExceeded)
	case <-e.done:
	}
	out := e.out
	if e.err != nil || !e.upload {
		return out, e.err
	}
	name := id + outputSuffix
	out.Image, err = f.getBlob(ctx, name)
	if err != nil {
		return out, fmt.Errorf("read flipped upload: %w", err)
	}
	f.deleteBlob(name)
	return out, nil
}

// admit refuses a job when no worker has been heard of for a while.
func (f *Front) admit() error {
	if !f.workers.anySince(time.Now().Add(-noWorkerAfter)) {
		return fmt.Errorf("%w: none has been seen for %s", server.ErrNoWorker, noWorkerAfter)
	}
	return nil
}

// send puts job id on the stream (its upload in the bucket first), within
// OpBudget each; a retried publish is kept once (the id is its Nats-Msg-Id).
func (f *Front) send(ctx context.Context, id string, upload []byte, async bool) error {
	if upload != nil {
		err := f.budget.run(ctx, "store upload", func(ctx context.Context) error {
			_, err := f.blobs.PutBytes(ctx, id+inputSuffix, upload)
			return err
		})
		if err != nil {
			return err
		}
	}
	data, err := json.Marshal(jobMsg{ID: id, Reply: f.reply, Upload: upload != nil, Async: async})
	if err != nil {
		return fmt.Errorf("encode job: %w", err)
	}
	err = f.budget.run(ctx, "publish job", func(ctx context.Context) error {
		_, err := f.js.Publish(ctx, jobsSubject, data, jetstream.WithMsgID(id))
		var apiErr *jetstream.APIError
		if errors.As(err, &apiErr) && strings.Contains(apiErr.Description, "maximum messages") {
			return fmt.Errorf("%w: %d jobs on the stream", job.ErrQueueFull, f.cfg.MaxQueue)
		}
		return err
	})
	if err == nil {
		f.metrics.entered(contract.JobQueued)
	}
	return err
}

// getBlob reads an object within OpBudget.
func (f *Front) getBlob(ctx context.Context, name string) (data []byte, err error) {
	err = f.budget.run(ctx, "read "+name, func(ctx context.Context) (err error) {
		data, err = f.blobs.GetBytes(ctx, name)
		return err
	})
	return data, err
}

// forgetState drops the state of a job that could not be published.
func (f *Front) forgetState(id string) {
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	if err := f.states.kv.Delete(ctx, id); err != nil {
		f.log.Warn("drop the state of an unpublished job", "err", err)
	}
}

// onEvent takes a worker's started or done message for one of this front's jobs.
func (f *Front) onEvent(m *nats.Msg) {
	now := time.Now()
	switch {
	case strings.HasSuffix(m.Subject, startedLeaf):
		var s startedMsg
		if err := json.Unmarshal(m.Data, &s); err != nil {
			f.log.Warn("bad started message", "err", err)
			return
		}
		f.metrics.entered(contract.JobRunning)
		f.jobs.start(s.ID, s.PID, now)
	case strings.HasSuffix(m.Subject, doneLeaf):
		var r resultMsg
		if err := json.Unmarshal(m.Data, &r); err != nil {
			f.log.Warn("bad result message", "err", err)
			return
		}
		f.metrics.entered(finalRecord(r).State)
		if _, first := f.jobs.finish(r, now); !first {
			f.log.Debug("dropping a result of no waiting job", "worker_pid", r.PID)
		}
	}
}

// recheck reads the results of the jobs this front waits for from the
// state bucket.
func (f *Front) recheck() {
	ctx, cancel := context.WithTimeout(context.Background(), OpBudget)
	defer cancel()
	for _, id := range f.jobs.waiting() {
		r, _, ok, err := f.states.get(ctx, id)
		if err != nil {
			f.log.Warn("recheck a job after a reconnect", "err", err)
			return
		}
		if ok && r.finished() {
			f.jobs.finish(*r.Result, time.Now())
		}
	}
}

// deleteBlob removes an object the front no longer needs; the bucket's TTL
// removes what a failure here leaves.
func (f *Front) deleteBlob(name string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := f.blobs.Delete(ctx, name); err != nil && !errors.Is(err, jetstream.ErrObjectNotFound) {
		f.log.Warn("delete blob", "name", name, "err", err)
	}
}

// presence is the workers a front has heard from.
type presence struct {
	mu   sync.Mutex
	seen map[string]heartbeatMsg
	at   map[string]time.Time
}

func (p *presence) onHeartbeat(m *nats.Msg) {
	var hb heartbeatMsg
	if err := json.Unmarshal(m.Data, &hb); err != nil || hb.ID == "" {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if hb.Slots == 0 {
		delete(p.seen, hb.ID)
		delete(p.at, hb.ID)
		return
	}
	p.seen[hb.ID], p.at[hb.ID] = hb, time.Now()
}

// live calls f for each live worker and forgets those silent for longer
// than noWorkerAfter.
func (p *presence) live(now time.Time, f func(heartbeatMsg)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for id, at := range p.at {
		switch age := now.Sub(at); {
		case age > noWorkerAfter:
			delete(p.seen, id)
			delete(p.at, id)
		case age <= liveFor:
			f(p.seen[id])
		}
	}
}

// anySince is whether a worker has been heard from since t.
func (p *presence) anySince(t time.Time) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, at := range p.at {
		if at.After(t) {
			return true
		}
	}
	return false
}

func (p *presence) slots(now time.Time) int {
	n := 0
	p.live(now, func(hb heartbeatMsg) { n += hb.Slots })
	return n
}
