package queue

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/flipbench/flipbench/contract"
	"github.com/flipbench/flipbench/internal/testproc"
	"github.com/flipbench/flipbench/job"
	"github.com/flipbench/flipbench/server"
)

func TestTableKeepsTheFirstResult(t *testing.T) {
	tb := newTable(10)
	now := time.Now()
	e, err := tb.add("a", false, now)
	if err != nil {
		t.Fatal(err)
	}
	tb.start("a", 1, now.Add(time.Second))
	if r, q := tb.load(); r != 1 || q != 0 {
		t.Errorf("load %d running %d queued, want 1 0", r, q)
	}
	if _, first := tb.finish(resultMsg{ID: "a", PID: 1, JobTime: time.Second}, now.Add(2*time.Second)); !first {
		t.Fatal("the first result was not taken")
	}
	if _, first := tb.finish(resultMsg{ID: "a", PID: 2, Error: "boom"}, now.Add(3*time.Second)); first {
		t.Error("a second result was taken")
	}
	<-e.done
	if e.state != contract.JobDone || e.out.PID != 1 || e.out.Queue != time.Second {
		t.Errorf("entry %s %+v, want done by pid 1 after a queue of 1s", e.state, e.out)
	}
	if r, q := tb.load(); r != 0 || q != 0 {
		t.Errorf("load %d running %d queued, want 0 0", r, q)
	}
}

func TestTableBound(t *testing.T) {
	tb := newTable(2)
	now := time.Now()
	for _, id := range []string{"a", "b"} {
		if _, err := tb.add(id, false, now); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := tb.add("c", false, now); !errors.Is(err, job.ErrQueueFull) {
		t.Fatalf("a third job: %v, want ErrQueueFull", err)
	}
	tb.finish(resultMsg{ID: "a"}, now)
	if got := tb.waiting(); len(got) != 1 || got[0] != "b" {
		t.Errorf("waiting %v, want [b]", got)
	}
	tb.forget("a")
	if _, err := tb.add("c", false, now); err != nil {
		t.Fatalf("an answered job should make room: %v", err)
	}
}

// TestFrontAndWorkerInProcess runs a front and a worker on an embedded
// server in this process, where the race detector sees them.
func TestFrontAndWorkerInProcess(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	f, emb := newTestFront(t, FrontConfig{})
	if _, err := f.Photo(ctx); !errors.Is(err, server.ErrNoWorker) {
		t.Fatalf("no worker: %v, want ErrNoWorker", err)
	}

	wc, err := Dial(emb.URL(), "test worker")
	if err != nil {
		t.Fatal(err)
	}
	defer wc.Close()
	wctx, stopWorker := context.WithCancel(ctx)
	workerDone := make(chan error, 1)
	go func() {
		workerDone <- RunWorker(wctx, WorkerConfig{
			Conn: wc, Image: filepath.Join("..", "testdata", "photo-1mp.jpg"), TempDir: t.TempDir(), Slots: 2, Index: -1,
		})
	}()
	testproc.WaitFor(t, 10*time.Second, "the worker's 2 slots", func() bool { return f.Capacity() >= 2 })
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			out, err := f.Photo(ctx)
			if err != nil || out.Job <= 0 || out.Bytes == 0 {
				t.Errorf("photo job: %+v, %v", out, err)
			}
		})
	}
	wg.Wait()
	if _, err := f.Upload(ctx, []byte("not an image")); !errors.Is(err, job.ErrFormat) {
		t.Errorf("a bad upload: %v, want ErrFormat from the worker", err)
	}
	stopWorker()
	if err := <-workerDone; err != nil {
		t.Errorf("worker: %v", err)
	}
}
