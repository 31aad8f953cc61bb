package progress

import (
	"io"
	"strings"
	"testing"
	"time"

	"github.com/flipbench/flipbench/internal/syncbuf"
	"github.com/flipbench/flipbench/internal/testproc"
)

func TestTrackerETA(t *testing.T) {
	tr := New(io.Discard, io.Discard, []Slot{{"standard", []int{10, 100}}, {"threaded", []int{10, 100}}}, 3)
	defer tr.Finish(false)
	if _, ok := tr.Remaining(); ok {
		t.Error("ETA known before any job time")
	}
	tr.Begin(0, -1)
	tr.Sized(0, 1, time.Second)
	tr.Begin(0, 0)
	for range 4 {
		tr.Add()
	}
	// standard: 6 + 100 jobs of 1 s on 1 slot; threaded (S guessed 1 s, one
	// slot until its /healthz says more): overhead + 3 warm-ups + 10 + 100.
	want := 106*time.Second + perModeOverhead + 3*time.Second + 110*time.Second
	if got, _ := tr.Remaining(); got != want {
		t.Errorf("remaining = %s, want %s", got, want)
	}

	// Without a bar, a status line goes to the log now and then.
	var log syncbuf.Buffer
	tr2 := New(nil, &log, []Slot{{"standard", []int{10}}}, 1)
	defer tr2.Finish(false)
	tr2.Sized(0, 1, time.Second)
	tr2.Begin(0, 0)
	tr2.SetStatusEvery(0)
	tr2.Add()
	if got, want := log.String(), "standard n=10: 1 answered, ETA 9s\n"; !strings.Contains(got, want) {
		t.Errorf("status lines = %q, want %q among them", got, want)
	}
}

// A burst that answers nothing for a long time (Node answers a burst all at
// once at its end) still gets its status line.
func TestTrackerStatusWithoutAnswers(t *testing.T) {
	var log syncbuf.Buffer
	tr := New(nil, &log, []Slot{{"node-standard", []int{10}}}, 1)
	defer tr.Finish(false)
	tr.Sized(0, 1, time.Second)
	tr.Begin(0, 0)
	tr.SetStatusEvery(0)
	if !testproc.Poll(20*time.Second, func() bool { return strings.Contains(log.String(), "node-standard n=10: 0 answered") }) {
		t.Fatalf("no status line without answers: %q", log.String())
	}
}
