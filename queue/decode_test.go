package queue

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/flipbench/flipbench/internal/testproc"
)

func TestDecodeJob(t *testing.T) {
	id, reply := NewJobID(), frontPrefix+"abcDEF123"
	good, _ := json.Marshal(jobMsg{ID: id, Reply: reply, Upload: true})
	if j, err := decodeJob(good); err != nil || j.ID != id || j.Reply != reply || !j.Upload {
		t.Fatalf("a good job: %+v, %v", j, err)
	}
	for _, bad := range []string{
		``, `null`, `[]`, `"x"`, `{}`, `{"id":1}`,
		`{"id":"` + id + `"}`,
		`{"id":"nope","reply":"` + reply + `"}`,
		`{"id":"` + id + `","reply":"flipbench.front.>"}`,
		`{"id":"` + id + `","reply":"flipbench.front.a.b"}`,
		`{"id":"` + id + `","reply":"$JS.API.STREAM.DELETE.FLIPBENCH_JOBS"}`,
		`{"id":"` + id + `","reply":"flipbench.front.` + strings.Repeat("a", maxTokenLen+1) + `"}`,
		`{"id":"` + id + `","reply":"` + reply + `","upload":"yes"}`,
		`{"id":"../../` + id + `","reply":"` + reply + `"}`,
	} {
		if j, err := decodeJob([]byte(bad)); err == nil {
			t.Errorf("decodeJob(%s) = %+v, want an error", bad, j)
		}
	}
}

// FuzzDecodeJob: whatever a message holds, decoding does not panic, and
// what it accepts names a valid id and one front's event subject.
func FuzzDecodeJob(f *testing.F) {
	id := NewJobID()
	for _, s := range []string{`{"id":"` + id + `","reply":"flipbench.front.x","upload":true}`,
		`{"id":"` + id + `","reply":"flipbench.front.*"}`, `{`, `{"id":null}`, "\xff"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		j, err := decodeJob(data)
		if err != nil {
			return
		}
		if _, err := ParseJobID(j.ID); err != nil {
			t.Errorf("accepted id %q: %v", j.ID, err)
		}
		tok, ok := strings.CutPrefix(j.Reply, frontPrefix)
		if !ok || tok == "" || strings.ContainsAny(tok, ".*> \t\r\n") {
			t.Errorf("accepted reply %q", j.Reply)
		}
	})
}

// TestMalformedJobsLeaveTheWorkerUp puts malformed messages on the stream
// before a real job: the one with a readable id and front fails that job,
// and the worker goes on to run the real one.
func TestMalformedJobsLeaveTheWorkerUp(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	f, emb := newTestFront(t, FrontConfig{})
	readable := NewJobID()
	e, err := f.jobs.add(readable, false, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{`garbage`, `{"id":"x","reply":"flipbench.front.*"}`,
		`{"id":"` + readable + `","reply":"` + f.reply + `","upload":"yes"}`} {
		if _, err := f.js.Publish(ctx, jobsSubject, []byte(m), jetstream.WithMsgID(NewJobID())); err != nil {
			t.Fatal(err)
		}
	}
	wc, err := Dial(emb.URL(), "test worker")
	if err != nil {
		t.Fatal(err)
	}
	defer wc.Close()
	workerDone := make(chan error, 1)
	go func() {
		workerDone <- RunWorker(ctx, WorkerConfig{
			Conn: wc, Image: filepath.Join("..", "testdata", "photo-1mp.jpg"), TempDir: t.TempDir(), Index: -1,
		})
	}()
	select {
	case <-e.done:
		if e.err == nil || !strings.Contains(e.err.Error(), "decode job message") {
			t.Errorf("the malformed job with a readable id: err %v, want a decode error", e.err)
		}
	case err := <-workerDone:
		t.Fatalf("the worker stopped: %v", err)
	}
	// Its heartbeat and its failure reach the front on different subscriptions.
	testproc.WaitFor(t, 10*time.Second, "the worker's heartbeat", func() bool { return f.Capacity() > 0 })
	if out, err := f.Photo(ctx); err != nil || out.Job <= 0 {
		t.Errorf("a good job after the malformed ones: %+v, %v", out, err)
	}
	cancel()
	if err := <-workerDone; err != nil {
		t.Errorf("worker: %v", err)
	}
}
