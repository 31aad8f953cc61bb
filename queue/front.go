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
	"github.com/flipbench/flipbench/server"
)

// Defaults of a front.
const (
	DefaultAckWait   = 10 * time.Second
	DefaultResultTTL = 10 * time.Minute
	DefaultMaxJobs   = 10000
	// blobMargin keeps an upload in the bucket this long past the result
	// TTL, so a deep queue does not outlive its input.
	blobMargin = time.Hour
)

// FrontConfig is what a front needs; zero values take the defaults.
type FrontConfig struct {
	Conn      *nats.Conn
	AckWait   time.Duration // how long a delivered job may go without word from its worker
	ResultTTL time.Duration // how long a finished job's state and result are kept
	MaxJobs   int           // jobs stored at once, finished ones included
	MaxQueue  int           // jobs queued or running at once; more get 503
	Logger    *slog.Logger
}

// Front is the HTTP front's side of the queue: it publishes jobs, follows
// them through the workers' events and keeps their results. It is a
// server.Queue.
type Front struct {
	cfg     FrontConfig
	js      jetstream.JetStream
	blobs   jetstream.ObjectStore
	reply   string
	jobs    *table
	workers *presence
	subs    []*nats.Subscription
	log     *slog.Logger
}

var _ server.Queue = (*Front)(nil)

// NewFront sets up the stream, the consumer and the bucket on cfg.Conn and
// starts following the workers.
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
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	js, err := jetstream.New(cfg.Conn)
	if err != nil {
		return nil, fmt.Errorf("jetstream: %w", err)
	}
	blobs, err := setup(ctx, js, cfg.AckWait, cfg.ResultTTL+blobMargin)
	if err != nil {
		return nil, err
	}
	f := &Front{
		cfg: cfg, js: js, blobs: blobs, reply: frontPrefix + nuid.Next(),
		jobs:    newTable(cfg.MaxJobs, cfg.MaxQueue, cfg.ResultTTL),
		workers: &presence{seen: map[string]heartbeatMsg{}, at: map[string]time.Time{}},
		log:     cfg.Logger,
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

// Submit publishes a job and returns its id.
func (f *Front) Submit(ctx context.Context, upload []byte) (string, error) {
	e, err := f.publish(ctx, upload, false)
	if err != nil {
		return "", err
	}
	return e.id, nil
}

// Status is where job id is. An id that is not one this package makes is
// unknown without a lookup.
func (f *Front) Status(id string) (server.JobState, bool) {
	if _, err := ParseJobID(id); err != nil {
		return server.JobState{}, false
	}
	return f.jobs.status(id, time.Now())
}

// Result is a done upload job's flipped image.
func (f *Front) Result(ctx context.Context, id string) (string, []byte, error) {
	// The same error for an id never issued and one expired: the answer
	// tells a guesser nothing.
	st, ok := f.Status(id)
	if !ok || !st.Upload || st.State != contract.JobDone {
		return "", nil, server.ErrNoResult
	}
	data, err := f.blobs.GetBytes(ctx, id+outputSuffix)
	if errors.Is(err, jetstream.ErrObjectNotFound) {
		return "", nil, server.ErrNoResult
	}
	if err != nil {
		return "", nil, fmt.Errorf("read a job's result: %w", err)
	}
	return st.Outcome.Format, data, nil
}

// wait publishes a job and waits for its result; the job leaves the table
// with the answer.
func (f *Front) wait(ctx context.Context, upload []byte) (server.Outcome, error) {
	e, err := f.publish(ctx, upload, true)
	if err != nil {
		return server.Outcome{}, err
	}
	defer f.jobs.forget(e.id)
	select {
	case <-ctx.Done():
		return server.Outcome{}, fmt.Errorf("wait for job %s: %w", e.id, ctx.Err())
	case <-e.done:
	}
	out := e.out
	if e.err != nil || !e.upload {
		return out, e.err
	}
	name := e.id + outputSuffix
	out.Image, err = f.blobs.GetBytes(ctx, name)
	if err != nil {
		return out, fmt.Errorf("read flipped upload: %w", err)
	}
	f.deleteBlob(name)
	return out, nil
}

// publish records a job and puts it on the stream (its upload in the
// bucket first).
func (f *Front) publish(ctx context.Context, upload []byte, waited bool) (*entry, error) {
	if f.Capacity() == 0 {
		return nil, fmt.Errorf("%w: none has been seen for %s", server.ErrNoWorker, liveFor)
	}
	id := NewJobID()
	e, err := f.jobs.add(id, upload != nil, waited, time.Now())
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*entry, error) {
		f.jobs.forget(id)
		return nil, err
	}
	if upload != nil {
		if _, err := f.blobs.PutBytes(ctx, id+inputSuffix, upload); err != nil {
			return fail(fmt.Errorf("store upload: %w", err))
		}
	}
	data, err := json.Marshal(jobMsg{ID: id, Reply: f.reply, Upload: upload != nil})
	if err != nil {
		return fail(fmt.Errorf("encode job: %w", err))
	}
	if _, err := f.js.Publish(ctx, jobsSubject, data, jetstream.WithMsgID(id)); err != nil {
		return fail(fmt.Errorf("publish job: %w", err))
	}
	return e, nil
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
		f.jobs.start(s.ID, s.PID, now)
	case strings.HasSuffix(m.Subject, doneLeaf):
		var r resultMsg
		if err := json.Unmarshal(m.Data, &r); err != nil {
			f.log.Warn("bad result message", "err", err)
			return
		}
		e, first := f.jobs.finish(r, now)
		if !first {
			f.log.Debug("dropping a second result", "id", r.ID, "worker_pid", r.PID)
			return
		}
		if e.upload {
			f.deleteBlob(e.id + inputSuffix)
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

// live calls f for each live worker and forgets the others.
func (p *presence) live(now time.Time, f func(heartbeatMsg)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for id, at := range p.at {
		if now.Sub(at) > liveFor {
			delete(p.seen, id)
			delete(p.at, id)
			continue
		}
		f(p.seen[id])
	}
}

func (p *presence) slots(now time.Time) int {
	n := 0
	p.live(now, func(hb heartbeatMsg) { n += hb.Slots })
	return n
}
