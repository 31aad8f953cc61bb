package job

import (
	"context"
	"fmt"
	"sync/atomic"

	"golang.org/x/sync/semaphore"
)

// DefaultMaxQueue is the default number of jobs that may wait for a slot: enough for
// the bench's largest burst (1000) with room for stragglers.
const DefaultMaxQueue = 2000

// Limiter admits at most Capacity jobs at once and queues up to maxQueue more in
// FIFO order. Without it one process running a burst of 100 photo jobs at once holds
// about 10 GB; with it memory stays near Capacity jobs' worth.
type Limiter struct {
	sem      *semaphore.Weighted // FIFO, and a cancelled waiter leaves the queue
	capacity int64
	maxQueue int64
	inside   atomic.Int64 // running + waiting
	running  atomic.Int64
}

// NewLimiter returns a limiter of capacity slots (at least 1) and a queue bound of
// maxQueue (negative means DefaultMaxQueue; 0 means no waiting at all).
func NewLimiter(capacity, maxQueue int) *Limiter {
	if capacity < 1 {
		capacity = 1
	}
	if maxQueue < 0 {
		maxQueue = DefaultMaxQueue
	}
	return &Limiter{
		sem:      semaphore.NewWeighted(int64(capacity)),
		capacity: int64(capacity),
		maxQueue: int64(maxQueue),
	}
}

// Capacity is the number of jobs that may run at once.
func (l *Limiter) Capacity() int { return int(l.capacity) }

// Acquire waits for a slot in FIFO order. It returns ErrQueueFull at once when the
// queue is full, and ctx's error when ctx ends first, in which case the caller never
// got a slot. On success the caller must call release exactly once.
func (l *Limiter) Acquire(ctx context.Context) (release func(), err error) {
	if n := l.inside.Add(1); n > l.capacity+l.maxQueue {
		l.inside.Add(-1)
		return nil, fmt.Errorf("%w: %d waiting", ErrQueueFull, l.maxQueue)
	}
	if err := l.sem.Acquire(ctx, 1); err != nil {
		l.inside.Add(-1)
		return nil, fmt.Errorf("wait for a job slot: %w", err)
	}
	l.running.Add(1)
	var once atomic.Bool
	return func() {
		if once.CompareAndSwap(false, true) {
			l.running.Add(-1)
			l.inside.Add(-1)
			l.sem.Release(1)
		}
	}, nil
}

// Running is the number of jobs holding a slot.
func (l *Limiter) Running() int { return int(l.running.Load()) }

// Queued is the number of jobs waiting for a slot.
func (l *Limiter) Queued() int {
	q := l.inside.Load() - l.running.Load()
	return int(max(q, 0))
}
