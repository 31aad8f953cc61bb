package queue

import (
	"fmt"
	"sync"
	"time"

	"github.com/flipbench/flipbench/contract"
	"github.com/flipbench/flipbench/job"
	"github.com/flipbench/flipbench/server"
)

// entry is one POST /flip job its front waits for.
type entry struct {
	id        string
	upload    bool
	state     string
	published time.Time
	started   time.Time // the last start a worker reported
	startPID  int
	out       server.Outcome
	err       error
	finished  time.Time
	done      chan struct{} // closed when finished
}

// table is the jobs a front's POST /flip requests wait for, at most max. A
// job leaves it with its answer (forget), so it holds nothing once the
// requests are answered: submitted jobs live in the state bucket.
type table struct {
	mu   sync.Mutex
	jobs map[string]*entry
	max  int
	running,
	unfinished int
}

func newTable(max int) *table { return &table{jobs: map[string]*entry{}, max: max} }

// add records a new job about to be published.
func (t *table) add(id string, upload bool, now time.Time) (*entry, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.jobs) >= t.max {
		return nil, fmt.Errorf("%w: this front waits for %d jobs", job.ErrQueueFull, len(t.jobs))
	}
	e := &entry{id: id, upload: upload, state: contract.JobQueued, published: now, done: make(chan struct{})}
	t.jobs[id] = e
	t.unfinished++
	return e, nil
}

// start records that pid started job id.
func (t *table) start(id string, pid int, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	e, ok := t.jobs[id]
	if !ok || !e.finished.IsZero() {
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
	if !ok || !e.finished.IsZero() {
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

// load is how many jobs run and how many wait.
func (t *table) load() (running, queued int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.running, t.unfinished - t.running
}
