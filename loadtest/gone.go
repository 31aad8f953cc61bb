package loadtest

import (
	"errors"
	"fmt"
	"sync"
	"time"
)

// DefaultGoneAfter is the gone-after time to pass to WithGoneAfter (and
// loadtest attack's default): how long every client of a run may see only
// connection errors before the run ends as ErrServerGone; longer than a
// server's restart here, far shorter than a phase of a bench.
const DefaultGoneAfter = 5 * time.Second

// ErrServerGone says a run ended early because nothing answered: every
// client saw only refused or reset connections for the gone-after time.
// Test for it with errors.Is.
var ErrServerGone = errors.New("server gone")

// WithGoneAfter sets how long every client may see only connection errors
// before a keep-alive run, a sustained or an open-model attack ends with
// ErrServerGone (DefaultGoneAfter is the usual value); without it, or with
// 0 or less, a run never ends so and the caller decides (it cancels the
// context). It is an option, not a default, so that a caller that reads an
// error as a failed run is not surprised by one.
func WithGoneAfter(d time.Duration) Option {
	return func(c *attackConfig) { c.goneAfter = d }
}

// goneWatch tells when every one of a run's clients has seen only
// connection errors since some time at least after ago. A client is failing
// from its first connection error to its next answer (any HTTP answer, even
// an error status: something is serving).
type goneWatch struct {
	after time.Duration

	mu      sync.Mutex
	failing []bool
	count   int       // clients failing
	active  int       // clients still sending
	since   time.Time // when count last reached active
}

func newGoneWatch(clients int, after time.Duration) *goneWatch {
	return &goneWatch{after: after, failing: make([]bool, clients), active: clients}
}

// saw records what client i's last request got; connErr is a connection
// error, anything else is an answer (a timeout counts as neither). It
// reports whether the server is gone.
func (w *goneWatch) saw(i int, connErr, answered bool, now time.Time) bool {
	if w == nil || w.after <= 0 {
		return false
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case connErr && !w.failing[i]:
		w.failing[i] = true
		w.count++
		w.mark(now)
	case answered && w.failing[i]:
		w.failing[i] = false
		w.count--
	}
	return w.goneLocked(now)
}

// done records that client i sends no more.
func (w *goneWatch) done(i int, now time.Time) {
	if w == nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.failing[i] {
		w.failing[i] = false
		w.count--
	}
	w.active--
	w.mark(now)
}

func (w *goneWatch) mark(now time.Time) {
	if w.count > 0 && w.count >= w.active {
		w.since = now
	}
}

func (w *goneWatch) goneLocked(now time.Time) bool {
	return w.count > 0 && w.count >= w.active && now.Sub(w.since) >= w.after
}

// goneError is the error of a run that ended as ErrServerGone.
func goneError(addr string, after time.Duration) error {
	return fmt.Errorf("%w: no answer from %s for %s", ErrServerGone, addr, after)
}
