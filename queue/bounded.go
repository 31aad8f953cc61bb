package queue

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/flipbench/flipbench/job"
	"github.com/flipbench/flipbench/server"
)

// Bounds of every broker operation (publish, bucket read or write, stream
// setup). A JetStream leader election in a 3-node cluster takes a few
// seconds; opBudget rides one out, and no request waits longer than it on
// the broker.
const (
	// opTimeout bounds one attempt.
	opTimeout = 2 * time.Second
	// OpBudget bounds the attempts of one operation together: past it the
	// client gets a 503.
	OpBudget = 12 * time.Second
	// retryPause is the first pause between attempts; it doubles up to 1 s.
	retryPause = 100 * time.Millisecond
)

// permanent is whether err will not go away by trying again: an answer,
// not a broker that is electing, reconnecting or slow.
func permanent(err error) bool {
	for _, e := range []error{
		jetstream.ErrKeyNotFound, jetstream.ErrKeyExists, jetstream.ErrKeyDeleted,
		jetstream.ErrObjectNotFound, nats.ErrConnectionClosed, nats.ErrBadSubject,
		nats.ErrAuthorization, nats.ErrTLS, context.Canceled, job.ErrQueueFull,
	} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// budget is how long one broker operation may take in all; 0 is OpBudget.
type budget time.Duration

// run runs op until it succeeds, fails for good, or the budget (or ctx)
// runs out, each attempt within opTimeout. Errors that last wrap
// server.ErrUnavailable, which the client gets as a 503.
func (b budget) run(ctx context.Context, what string, op func(ctx context.Context) error) error {
	total := time.Duration(b)
	if total <= 0 {
		total = OpBudget
	}
	ctx, cancel := context.WithTimeout(ctx, total)
	defer cancel()
	pause := retryPause
	for {
		attempt, cancelAttempt := context.WithTimeout(ctx, opTimeout)
		err := op(attempt)
		cancelAttempt()
		switch {
		case err == nil:
			return nil
		case errors.Is(err, nats.ErrConnectionClosed), errors.Is(err, nats.ErrAuthorization), errors.Is(err, nats.ErrTLS):
			return fmt.Errorf("%s: %w: %w", what, server.ErrUnavailable, err)
		case permanent(err):
			return fmt.Errorf("%s: %w", what, err)
		}
		select {
		case <-ctx.Done():
			if errors.Is(context.Cause(ctx), context.Canceled) {
				return fmt.Errorf("%s: %w", what, ctx.Err())
			}
			return fmt.Errorf("%s: %w: broker unanswered for %s: %w", what, server.ErrUnavailable, total, err)
		case <-time.After(pause):
			pause = min(2*pause, time.Second)
		}
	}
}
