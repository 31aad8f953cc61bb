package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flipbench/flipbench/contract"
	"github.com/flipbench/flipbench/job"
)

// fakeQueue is a Queue whose jobs are what the test sets.
type fakeQueue struct {
	mu     sync.Mutex
	slots  int
	jobs   map[string]JobState
	images map[string][]byte
	next   int
}

func (q *fakeQueue) Capacity() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.slots
}

func (q *fakeQueue) Load() (int, int) { return 0, 0 }

func (q *fakeQueue) Photo(context.Context) (Outcome, error) {
	if q.Capacity() == 0 {
		return Outcome{}, ErrNoWorker
	}
	return Outcome{PID: 4242, Worker: 3, Queue: time.Millisecond, Job: 2 * time.Millisecond}, nil
}

func (q *fakeQueue) Upload(context.Context, []byte) (Outcome, error) {
	return Outcome{}, fmt.Errorf("%w: cannot", job.ErrDecode)
}

func (q *fakeQueue) Submit(_ context.Context, upload []byte) (string, error) {
	if q.Capacity() == 0 {
		return "", ErrNoWorker
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	q.next++
	id := "j" + strconv.Itoa(q.next)
	q.jobs[id] = JobState{State: contract.JobQueued, Upload: upload != nil}
	return id, nil
}

func (q *fakeQueue) Status(_ context.Context, id string) (JobState, bool, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	st, ok := q.jobs[id]
	return st, ok, nil
}

func (q *fakeQueue) Result(_ context.Context, id string) (string, []byte, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	img, ok := q.images[id]
	if !ok {
		return "", nil, ErrNoResult
	}
	return "png", img, nil
}

func (q *fakeQueue) set(id string, st JobState) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.jobs[id] = st
}

// TestAsyncAPI drives the async routes over a fake Queue: the server's part
// is the HTTP, the headers and the status of each state.
func TestAsyncAPI(t *testing.T) {
	q := &fakeQueue{slots: 2, jobs: map[string]JobState{}, images: map[string][]byte{}}
	s, err := New(Config{Mode: "queued", Worker: -1, Jobs: q})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	ctx := t.Context()
	get := func(path string) answer {
		a, err := do(ctx, http.MethodGet, ts.URL+path, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}

	// /flip reports the worker's pid and times, not the front's.
	a := post(t, ts.URL, "", nil)
	if a.status != http.StatusOK || a.header.Get(contract.HeaderWorkerPID) != "4242" ||
		a.header.Get(contract.HeaderQueueTime) != "1ms" || a.header.Get(contract.HeaderJobTime) != "2ms" {
		t.Errorf("/flip: status %d, headers %v", a.status, a.header)
	}
	checkError(t, post(t, ts.URL, "image/png", encodePNG(t, pattern(3, 2, 0))), http.StatusBadRequest)

	sub, err := do(ctx, http.MethodPost, ts.URL+contract.PathJobs, "image/png", encodePNG(t, pattern(3, 2, 0)))
	if err != nil {
		t.Fatal(err)
	}
	var id contract.JobID
	if err := json.Unmarshal(sub.body, &id); sub.status != http.StatusAccepted || err != nil || sub.header.Get("Location") != contract.JobPath(id.ID) {
		t.Fatalf("POST /jobs: status %d, body %s, Location %q", sub.status, sub.body, sub.header.Get("Location"))
	}
	checkError(t, get(contract.JobResultPath(id.ID)), http.StatusConflict)

	q.set(id.ID, JobState{State: contract.JobDone, Upload: true, Outcome: Outcome{PID: 7, Queue: time.Second, Job: time.Millisecond}})
	q.mu.Lock()
	q.images[id.ID] = []byte("png bytes")
	q.mu.Unlock()
	var st contract.JobStatus
	if a := get(contract.JobPath(id.ID)); a.status != http.StatusOK || json.Unmarshal(a.body, &st) != nil ||
		st.State != contract.JobDone || st.PID != 7 || st.QueueMS != 1000 || st.JobMS != 1 || st.Result != contract.JobResultPath(id.ID) {
		t.Errorf("done job: status %d, %s", a.status, a.body)
	}
	if a := get(contract.JobResultPath(id.ID)); a.status != http.StatusOK || string(a.body) != "png bytes" || a.header.Get("Content-Type") != "image/png" {
		t.Errorf("result: status %d, type %q, body %q", a.status, a.header.Get("Content-Type"), a.body)
	}

	q.set("bad", JobState{State: contract.JobFailed, Upload: true, Err: fmt.Errorf("%w: worker says so", job.ErrTooManyPixels)})
	if a := get(contract.JobPath("bad")); json.Unmarshal(a.body, &st) != nil || st.State != contract.JobFailed ||
		st.Status != http.StatusRequestEntityTooLarge || st.Error == "" {
		t.Errorf("failed job: %s, want failed with status 413", a.body)
	}
	checkError(t, get(contract.JobPath("nope")), http.StatusNotFound)

	q.set("photo", JobState{State: contract.JobDone})
	checkError(t, get(contract.JobResultPath("photo")), http.StatusNotFound)

	q.mu.Lock()
	q.slots = 0
	q.mu.Unlock()
	for _, path := range []string{contract.PathFlip, contract.PathJobs} {
		a, err := do(ctx, http.MethodPost, ts.URL+path, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		checkError(t, a, http.StatusServiceUnavailable)
		if a.header.Get("Retry-After") == "" {
			t.Errorf("%s with no worker: no Retry-After", path)
		}
	}
	if h := getHealth(t, ts.URL); h.Capacity != 0 || h.Mode != "queued" {
		t.Errorf("healthz: %+v, want capacity 0 in mode queued", h)
	}
}

// TestUnknownJobIDsAllLookAlike: ids of any length and alphabet get the
// same 404, whose body does not echo the id, and nothing else; an id that
// existed and left (the fake forgets it) gets the same answer.
func TestUnknownJobIDsAllLookAlike(t *testing.T) {
	q := &fakeQueue{slots: 1, jobs: map[string]JobState{"gone": {State: contract.JobDone, Upload: true}}, images: map[string][]byte{}}
	s, err := New(Config{Mode: "queued", Worker: -1, Jobs: q})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	get := func(path string) answer {
		a, err := do(t.Context(), http.MethodGet, ts.URL+path, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	// "gone" expires from the store between its status and its result.
	want := get(contract.JobResultPath("gone"))
	checkError(t, want, http.StatusNotFound)
	q.mu.Lock()
	delete(q.jobs, "gone")
	q.mu.Unlock()
	for _, id := range []string{"gone", "x", strings.Repeat("A", 22), strings.Repeat("z", 4000), "%00", "%2e%2e", "..%2f..",
		"%E2%98%83", "a%20b", "%ff%fe", "-_-", "$JS.API"} {
		for _, path := range []string{contract.JobPath(id), contract.JobResultPath(id)} {
			a := get(path)
			checkError(t, a, http.StatusNotFound)
			if string(a.body) != string(want.body) {
				t.Errorf("GET %s: body %s, want the same as any unknown id: %s", path, a.body, want.body)
			}
		}
	}
}

// TestBrokerErrorStatus: a queue whose broker did not answer gives 503, one
// whose job's result did not come in time 504.
func TestBrokerErrorStatus(t *testing.T) {
	for err, want := range map[error]int{
		fmt.Errorf("publish job: %w: broker unanswered", ErrUnavailable): http.StatusServiceUnavailable,
		fmt.Errorf("no result within 1s: %w", context.DeadlineExceeded):  http.StatusGatewayTimeout,
	} {
		if got := status(err); got != want {
			t.Errorf("status(%v) = %d, want %d", err, got, want)
		}
	}
}
