package loadtest

import (
	"context"
	"math/rand/v2"
	"strings"
	"time"
)

// Defaults of the wait before a keep-alive client reconnects after its
// connection was refused or reset: short enough not to slow a restarting
// server's clients down, long enough that a dead server costs a few
// attempts a second, not tens of thousands.
const (
	DefaultBackoffMin = 10 * time.Millisecond
	DefaultBackoffMax = time.Second
)

// Backoff is a capped exponential backoff with jitter: the k-th wait in a
// row (from 0) is drawn from [d/2, d], d = min(Min × 2^k, Max). The lower
// half stays so that the attempts of a failing client are bounded (see
// MaxAttempts); the jitter keeps clients from reconnecting in lockstep.
type Backoff struct {
	Min, Max time.Duration
}

// DefaultBackoff is the backoff of keep-alive clients unless WithBackoff
// sets another.
func DefaultBackoff() Backoff { return Backoff{Min: DefaultBackoffMin, Max: DefaultBackoffMax} }

// ceiling returns the upper end d of the k-th wait.
func (b Backoff) ceiling(k int) time.Duration {
	d := b.Min
	for range k {
		if d >= b.Max/2 {
			return b.Max
		}
		d *= 2
	}
	return min(d, b.Max)
}

// Wait returns the k-th wait in a row, drawn from [d/2, d].
func (b Backoff) Wait(k int) time.Duration {
	d := b.ceiling(k)
	if d <= 0 {
		return 0
	}
	return d/2 + rand.N(d/2+1)
}

// MaxAttempts returns the most attempts one client can make in d when every
// attempt fails at once: one, then one after each wait, each wait at its
// shortest. With no backoff it has no bound and returns -1.
func (b Backoff) MaxAttempts(d time.Duration) int {
	if b.Min <= 0 {
		return -1
	}
	n := 1
	for k := 0; ; k++ {
		w := b.ceiling(k) / 2
		if w > d {
			return n
		}
		d -= w
		n++
	}
}

// sleep waits the k-th wait or until ctx ends; it reports whether the wait
// ran out (false: ctx ended).
func (b Backoff) sleep(ctx context.Context, k int) bool {
	w := b.Wait(k)
	if w <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(w)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// WithBackoff sets the backoff of keep-alive clients whose connection was
// refused or reset (DefaultBackoff otherwise). A Min of 0 turns it off:
// such a client reconnects at once.
func WithBackoff(b Backoff) Option {
	return func(c *attackConfig) { c.backoff = b }
}

// IsConnError reports whether the error text of a result says the
// connection itself failed (refused, reset, closed before an answer), as
// opposed to a timeout or an error status: the failures that say nothing is
// serving. It reads text, not an error value, so that results read back from
// a .bin file are judged as the live run judged them.
func IsConnError(text string) bool {
	if text == "" || strings.Contains(text, "timeout") {
		return false
	}
	for _, s := range []string{"dial ", "connection refused", "connection reset", "broken pipe", "EOF", "server closed idle connection"} {
		if strings.Contains(text, s) {
			return true
		}
	}
	return false
}
