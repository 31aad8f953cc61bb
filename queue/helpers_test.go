package queue

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/flipbench/flipbench/internal/testproc"
)

// newTestFront starts an embedded server and a front on it; cleanup stops both.
func newTestFront(t *testing.T, cfg FrontConfig) (*Front, *Embedded) {
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
	return f, emb
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
