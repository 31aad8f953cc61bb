package queue

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/flipbench/flipbench/internal/testproc"
	"github.com/flipbench/flipbench/server"
)

// newTestFront starts an embedded server and a front on it; cleanup stops both.
func newTestFront(t *testing.T, cfg FrontConfig) (*Front, *Embedded) {
	t.Helper()
	emb := newBroker(t)
	return frontOn(t, emb, cfg), emb
}

// newBroker starts an embedded server that cleanup stops.
func newBroker(t *testing.T) *Embedded {
	t.Helper()
	emb, err := StartEmbedded(EmbeddedConfig{Listen: DefaultListen, TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := emb.Close(); err != nil {
			t.Error(err)
		}
	})
	return emb
}

// frontOn starts a front on its own connection to emb; cleanup stops it.
func frontOn(t *testing.T, emb *Embedded, cfg FrontConfig) *Front {
	t.Helper()
	fc, err := emb.Connect()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fc.Close)
	cfg.Conn = fc
	f, err := NewFront(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// startWorker runs an in-process worker with slots on emb until the test
// ends.
func startWorker(t *testing.T, emb *Embedded, slots int) {
	t.Helper()
	wc, err := Dial(emb.URL(), "test worker")
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.WithoutCancel(t.Context()))
	done := make(chan error, 1)
	go func() {
		done <- RunWorker(ctx, WorkerConfig{
			Conn: wc, Image: filepath.Join("..", "testdata", "photo-1mp.jpg"), TempDir: t.TempDir(), Slots: slots, Index: -1,
		})
	}()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("worker: %v", err)
		}
		wc.Close()
	})
}

// waitState polls f until job id is in state want.
func waitState(t *testing.T, f *Front, id, want string) server.JobState {
	t.Helper()
	var st server.JobState
	testproc.WaitFor(t, 30*time.Second, "job "+id+" "+want, func() bool {
		s, ok, err := f.Status(t.Context(), id)
		if err != nil || !ok {
			t.Fatalf("status of %s: found %v, %v", id, ok, err)
		}
		st = s
		return s.State == want
	})
	return st
}

// fakeWorker makes f see a live worker with one slot that never fetches:
// its heartbeats go on until the test ends.
func fakeWorker(t *testing.T, f *Front) {
	t.Helper()
	hb, err := json.Marshal(heartbeatMsg{ID: "fake", PID: 1, Slots: 1})
	if err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(heartbeatPeriod)
		defer tick.Stop()
		for {
			_ = f.cfg.Conn.Publish(workersSubject, hb)
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	t.Cleanup(func() { close(stop); <-done })
	testproc.WaitFor(t, 10*time.Second, "the fake worker's heartbeat", func() bool { return f.Capacity() > 0 })
}

// waitCapacity waits until f sees n worker slots.
func waitCapacity(t *testing.T, f *Front, n int) {
	t.Helper()
	testproc.WaitFor(t, 10*time.Second, "worker slots", func() bool { return f.Capacity() >= n })
}
