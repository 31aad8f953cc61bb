package loadtest

import (
	"context"
	"errors"
)

// StopCause is why a caller stopped an attack: it cancels the attack's
// context with one, e.g. cancel(loadtest.Stop("memory")) on a context from
// context.WithCancelCause, and the attack ends at once, returning what it
// measured and an error that wraps the cause.
type StopCause struct{ Reason string }

// Stop returns the cause that stops an attack for reason.
func Stop(reason string) error { return &StopCause{Reason: reason} }

// Error implements error.
func (s *StopCause) Error() string { return "stopped: " + s.Reason }

// Unwrap makes a stop a cancellation to errors.Is(err, context.Canceled).
func (s *StopCause) Unwrap() error { return context.Canceled }

// Reasons StoppedReason returns besides a StopCause's own.
const (
	StoppedGone      = "server gone"
	StoppedCancelled = "cancelled"
)

// StoppedReason says why an attack that returned err ended before its end:
// a StopCause's reason, StoppedGone, StoppedCancelled for any other
// cancellation or deadline, and "" when it ran to its end (err is nil or
// bad input).
func StoppedReason(err error) string {
	var s *StopCause
	switch {
	case errors.As(err, &s):
		return s.Reason
	case errors.Is(err, ErrServerGone):
		return StoppedGone
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return StoppedCancelled
	}
	return ""
}

// cancelCause returns why ctx ended: its cause, or its error when none was
// given.
func cancelCause(ctx context.Context) error {
	if c := context.Cause(ctx); c != nil {
		return c
	}
	return ctx.Err()
}
