package queue

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/flipbench/flipbench/contract"
	"github.com/flipbench/flipbench/job"
)

// failFinish is a job-state bucket that takes every write but the one that
// finishes a job, as when the broker does not answer it or the worker's
// front dies as the job ends.
type failFinish struct{ jetstream.KeyValue }

func (k failFinish) Update(ctx context.Context, key string, value []byte, rev uint64) (uint64, error) {
	var r record
	if json.Unmarshal(value, &r) == nil && r.finished() {
		return 0, errors.New("injected: no answer to the finishing write")
	}
	return k.KeyValue.Update(ctx, key, value, rev)
}

// settledMsg is a delivered job message that counts how the worker settled
// it; a method handle must not call is left nil and panics.
type settledMsg struct {
	jetstream.Msg
	data              []byte
	acks, naks, terms int
}

func (m *settledMsg) Data() []byte { return m.data }
func (m *settledMsg) Metadata() (*jetstream.MsgMetadata, error) {
	return &jetstream.MsgMetadata{NumDelivered: 1}, nil
}
func (m *settledMsg) Ack() error        { m.acks++; return nil }
func (m *settledMsg) Nak() error        { m.naks++; return nil }
func (m *settledMsg) Term() error       { m.terms++; return nil }
func (m *settledMsg) InProgress() error { return nil }

// TestUnrecordedFinishIsNotAcked: a submitted job whose finish the worker
// could not record is left unacknowledged, so it runs again after AckWait
// instead of reading running for ever (a front killed as its worker's job
// ended left one so); the next delivery records and acknowledges it.
func TestUnrecordedFinishIsNotAcked(t *testing.T) {
	f, emb := newTestFront(t, FrontConfig{})
	fakeWorker(t, f)
	id, err := f.Submit(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	wc, err := Dial(emb.URL(), "test worker")
	if err != nil {
		t.Fatal(err)
	}
	defer wc.Close()
	runner, err := job.NewRunner(filepath.Join("..", "testdata", "photo-1mp.jpg"), t.TempDir(), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer runner.Close()
	data, err := json.Marshal(jobMsg{ID: id, Reply: f.reply, Async: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name  string
		kv    jetstream.KeyValue
		acks  int
		state string
	}{
		{"finish not recorded", failFinish{f.states.kv}, 0, contract.JobRunning},
		{"delivered again", f.states.kv, 1, contract.JobDone},
	} {
		w := &worker{cfg: WorkerConfig{Conn: wc, Index: -1}, pid: os.Getpid(), runner: runner,
			states: states{kv: tt.kv, budget: budget(time.Second)}, ackWait: DefaultAckWait, log: slog.New(slog.DiscardHandler)}
		msg := &settledMsg{data: data}
		w.handle(t.Context(), msg)
		if msg.acks != tt.acks || msg.naks != 0 || msg.terms != 0 {
			t.Errorf("%s: %d acks, %d naks, %d terms; want %d acks and nothing else", tt.name, msg.acks, msg.naks, msg.terms, tt.acks)
		}
		if st, ok, err := f.Status(t.Context(), id); err != nil || !ok || st.State != tt.state {
			t.Errorf("%s: job state %q (found %v, %v), want %q", tt.name, st.State, ok, err, tt.state)
		}
	}
}
