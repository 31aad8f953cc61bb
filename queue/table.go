package queue

import (
	"fmt"
	"sync"
	"time"

	"github.com/flipbench/flipbench/contract"
	"github.com/flipbench/flipbench/job"
	"github.com/flipbench/flipbench/server"
)

// entry is one job the front knows of.
type entry struct {
	id        string
	upload    bool
	waited    bool // a POST /flip waits for it: it leaves the table with its answer
	state     string
	published time.Time
	started   time.Time // the last start a worker reported
	startPID  int
	out       server.Outcome
	err       error
	finished  time.Time
	done      chan struct{} // closed when finished
}

// table is the front's jobs: bounded in number, finished ones kept for ttl.
type table struct {
	mu       sync.Mutex
	jobs     map[string]*entry
	order    []string // ids in the order they came, for eviction
	max      int
	ttl      time.Duration
	maxQueue int // unfinished jobs at most
	unfinished,
	running int
}

func newTable(maxJobs, maxQueue int, ttl time.Duration) *table {
	return &table{jobs: map[string]*entry{}, max: maxJobs, maxQueue: maxQueue, ttl: ttl}
}

// add records a new job about to be published.
func (t *table) add(id string, upload, waited bool, now time.Time) (*entry, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.unfinished >= t.maxQueue {
		return nil, fmt.Errorf("%w: %d jobs queued or running", job.ErrQueueFull, t.unfinished)
	}
	t.sweep(now)
	if len(t.jobs) >= t.max {
		return nil, fmt.Errorf("%w: %d jobs stored, none finished to make room", job.ErrQueueFull, len(t.jobs))
	}
	e := &entry{id: id, upload: upload, waited: waited, state: contract.JobQueued, published: now, done: make(chan struct{})}
	t.jobs[id] = e
	t.order = append(t.order, id)
	t.unfinished++
	return e, nil
}

// sweep drops expired jobs, then, while the table is full, the oldest
// finished ones. Called with mu held.
func (t *table) sweep(now time.Time) {
	keep := t.order[:0]
	full := len(t.jobs) >= t.max
	for _, id := range t.order {
		e, ok := t.jobs[id]
		if !ok {
			continue
		}
		if e.state == contract.JobDone || e.state == contract.JobFailed {
			if now.Sub(e.finished) >= t.ttl || full {
				delete(t.jobs, id)
				full = len(t.jobs) >= t.max
				continue
			}
		}
		keep = append(keep, id)
	}
	clear(t.order[len(keep):])
	t.order = keep
}

// start records that pid started job id.
func (t *table) start(id string, pid int, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	e, ok := t.jobs[id]
	if !ok || e.finished != (time.Time{}) {
		return
	}
	if e.state == contract.JobQueued {
		e.state = contract.JobRunning
		t.running++
	}
	e.started, e.startPID = now, pid
}

// finish records a job's result. The first result wins: a job delivered
// twice (its first worker was slow to ack or died after publishing) may
// report twice. It says whether this result was the first.
func (t *table) finish(r resultMsg, now time.Time) (*entry, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	e, ok := t.jobs[r.ID]
	if !ok || e.finished != (time.Time{}) {
		return nil, false
	}
	if e.state == contract.JobRunning {
		t.running--
	}
	t.unfinished--
	e.err = r.err()
	e.state = contract.JobDone
	if e.err != nil {
		e.state = contract.JobFailed
	}
	e.out = server.Outcome{
		PID: r.PID, Worker: r.Worker, Job: r.JobTime, Bytes: r.Bytes, Steps: r.Steps, Format: r.Format,
		Queue: queueTime(e, r, now),
	}
	e.finished = now
	close(e.done)
	return e, true
}

// queueTime is from publication to the start of the run that produced r,
// all on the front's clock: worker clocks may differ from it.
func queueTime(e *entry, r resultMsg, now time.Time) time.Duration {
	if e.startPID == r.PID && !e.started.IsZero() {
		return e.started.Sub(e.published)
	}
	return max(now.Sub(e.published)-r.JobTime, 0)
}

// forget drops job id (its waiter has its answer, or left).
func (t *table) forget(id string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	e, ok := t.jobs[id]
	if !ok {
		return
	}
	if e.finished.IsZero() {
		t.unfinished--
		if e.state == contract.JobRunning {
			t.running--
		}
	}
	delete(t.jobs, id)
}

// status is a copy of job id's state, false when unknown or expired.
func (t *table) status(id string, now time.Time) (server.JobState, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	e, ok := t.jobs[id]
	if !ok || e.waited || (!e.finished.IsZero() && now.Sub(e.finished) >= t.ttl) {
		return server.JobState{}, false
	}
	st := server.JobState{State: e.state, Upload: e.upload, Outcome: e.out, Err: e.err}
	if e.state == contract.JobRunning {
		st.Outcome.PID = e.startPID
	}
	return st, true
}

// load is how many jobs run and how many wait.
func (t *table) load() (running, queued int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.running, t.unfinished - t.running
}

// waiting lists the unfinished jobs.
func (t *table) waiting() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var ids []string
	for id, e := range t.jobs {
		if e.finished.IsZero() {
			ids = append(ids, id)
		}
	}
	return ids
}
