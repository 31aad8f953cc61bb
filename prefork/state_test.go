package prefork

import (
	"io"
	"log/slog"
	"syscall"
	"testing"
	"time"
)

func TestTransitions(t *testing.T) {
	tests := []struct {
		from, to procState
		moved    bool
		want     procState
	}{
		{starting, ready, true, ready},
		{starting, retiring, true, retiring},
		{starting, stopping, true, stopping},
		{ready, retiring, true, retiring},
		{ready, stopping, true, stopping},
		{ready, ready, false, ready},
		{ready, starting, false, ready},
		{retiring, stopping, true, stopping},
		{retiring, ready, false, retiring},
		{stopping, ready, false, stopping}, // ready late: recorded, stays stopping
		{stopping, retiring, false, stopping},
		{stopping, stopping, false, stopping},
	}
	for _, tt := range tests {
		t.Run(tt.from.String()+"->"+tt.to.String(), func(t *testing.T) {
			m := &Master{grace: time.Hour, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
			r := newSupervisor(m, env{now: time.Now, after: func(time.Duration, func()) {}})
			p := &proc{child: newChild(0, 1, time.Now, func(syscall.Signal) error { return nil }), state: tt.from}
			if moved := r.transition(p, tt.to); moved != tt.moved || p.state != tt.want {
				t.Errorf("moved %v to %v, want %v to %v", moved, p.state, tt.moved, tt.want)
			}
			if wasReady := !p.readyAt.IsZero(); wasReady != (tt.to == ready && (tt.from == starting || tt.from == stopping)) {
				t.Errorf("readyAt set: %v", wasReady)
			}
		})
	}
}

func TestExitReason(t *testing.T) {
	for _, tt := range []struct {
		state procState
		ready bool
		want  string
	}{
		{starting, false, "died before ready"},
		{ready, true, "crashed"},
		{retiring, true, "retired"},
		{stopping, false, "stopped"},
		{stopping, true, "stopped"},
	} {
		p := &proc{state: tt.state}
		if tt.ready {
			p.readyAt = time.Now()
		}
		if got := p.exitReason(); got != tt.want {
			t.Errorf("%v (ready %v): %q, want %q", tt.state, tt.ready, got, tt.want)
		}
	}
}
