package queue

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/png"
	"testing"
	"time"

	"github.com/flipbench/flipbench/contract"
	"github.com/flipbench/flipbench/server"
)

// smallPNG is a 4x2 image, an upload a worker flips in no time.
func smallPNG(t *testing.T) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewGray(image.Rect(0, 0, 4, 2))); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestTwoFrontsOneBroker: a job submitted to one front is followed, and its
// result read, through the other: the state is on the broker.
func TestTwoFrontsOneBroker(t *testing.T) {
	emb := newBroker(t)
	fronts := []*Front{frontOn(t, emb, FrontConfig{}), frontOn(t, emb, FrontConfig{})}
	startWorker(t, emb, 2)
	waitCapacity(t, fronts[0], 2)
	var ids []string
	for i := range 4 {
		var upload []byte
		if i == 0 {
			upload = smallPNG(t)
		}
		id, err := fronts[i%2].Submit(t.Context(), upload)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	for i, id := range ids {
		other := fronts[(i+1)%2]
		st := waitState(t, other, id, contract.JobDone)
		if st.Outcome.PID == 0 || st.Outcome.Job <= 0 {
			t.Errorf("job %d done without its worker or time: %+v", i, st.Outcome)
		}
	}
	format, img, err := fronts[1].Result(t.Context(), ids[0])
	if err != nil || format != "png" || len(img) == 0 {
		t.Errorf("the upload's result through the other front: %q, %d bytes, %v", format, len(img), err)
	}
}

// TestFrontRestartKeepsJobs: jobs accepted by a front that then stops are
// known to the next front on the same broker, and finish there.
func TestFrontRestartKeepsJobs(t *testing.T) {
	emb := newBroker(t)
	first := frontOn(t, emb, FrontConfig{})
	fakeWorker(t, first) // admits jobs, runs none
	var ids []string
	for range 3 {
		id, err := first.Submit(t.Context(), nil)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	first.cfg.Conn.Close()

	second := frontOn(t, emb, FrontConfig{})
	for _, id := range ids {
		if st, ok, err := second.Status(t.Context(), id); err != nil || !ok || st.State != contract.JobQueued {
			t.Fatalf("job %s after the restart: %+v, found %v, %v; want queued", id, st, ok, err)
		}
	}
	startWorker(t, emb, 1)
	for _, id := range ids {
		waitState(t, second, id, contract.JobDone)
	}
}

// TestBrokerGoneAnswers: with the broker gone, submitting, waiting and
// reading a job end within the front's broker timeout with
// server.ErrUnavailable (a 503), never a hang.
func TestBrokerGoneAnswers(t *testing.T) {
	emb := newBroker(t)
	f := frontOn(t, emb, FrontConfig{BrokerTimeout: time.Second})
	fakeWorker(t, f)
	id, err := f.Submit(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	emb.ns.Shutdown()
	emb.ns.WaitForShutdown()
	if _, err := f.Submit(t.Context(), nil); !errors.Is(err, server.ErrUnavailable) {
		t.Errorf("submit: %v, want ErrUnavailable", err)
	}
	if _, err := f.Photo(t.Context()); !errors.Is(err, server.ErrUnavailable) {
		t.Errorf("photo: %v, want ErrUnavailable", err)
	}
	if _, _, err := f.Status(t.Context(), id); !errors.Is(err, server.ErrUnavailable) {
		t.Errorf("status: %v, want ErrUnavailable", err)
	}
}

// TestQueueTimeFromTheBroker: a submitted job that waited for a worker
// reports a queue time, from the broker's stamps.
func TestQueueTimeFromTheBroker(t *testing.T) {
	emb := newBroker(t)
	f := frontOn(t, emb, FrontConfig{})
	fakeWorker(t, f)
	id, err := f.Submit(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	// Queued until a worker comes: at least as long as the wait for a heartbeat.
	startWorker(t, emb, 1)
	waitCapacity(t, f, 2)
	st := waitState(t, f, id, contract.JobDone)
	if st.Outcome.Queue <= 0 || st.Outcome.Job <= 0 {
		t.Errorf("queue %s, job %s: want both above 0", st.Outcome.Queue, st.Outcome.Job)
	}
}

// TestResultTimeout: a POST /flip whose result does not come within
// ResultTimeout ends with context.DeadlineExceeded (a 504), never a hang.
func TestResultTimeout(t *testing.T) {
	f, _ := newTestFront(t, FrontConfig{ResultTimeout: 300 * time.Millisecond})
	fakeWorker(t, f) // admits the job, never runs it
	if _, err := f.Photo(t.Context()); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("photo: %v, want DeadlineExceeded", err)
	}
	if r, q := f.Load(); r != 0 || q != 0 {
		t.Errorf("load after the timeout: %d running, %d queued; want none", r, q)
	}
}
