package job

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/flipbench/flipbench/internal/testproc"
)

// waitFor is testproc.WaitFor for up to 5 s: goroutines take their place in
// the queue in their own time.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	testproc.WaitFor(t, 5*time.Second, what, cond)
}

func TestLimiterFIFO(t *testing.T) {
	l := NewLimiter(1, 10)
	hold, err := l.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var order []int
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			release, err := l.Acquire(context.Background())
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			order = append(order, i)
			mu.Unlock()
			release()
		})
		// Queue them one at a time so their order of arrival is known. Queued
		// counts a waiter just before it joins the semaphore's list: give it a
		// moment to get there.
		waitFor(t, "queue to grow", func() bool { return l.Queued() == i+1 })
		time.Sleep(20 * time.Millisecond)
	}
	hold()
	wg.Wait()
	for i, got := range order {
		if got != i {
			t.Fatalf("served in order %v, want 0..7", order)
		}
	}
	if got := l.Running() + l.Queued(); got != 0 {
		t.Errorf("after all released: %d inside, want 0", got)
	}
}

func TestLimiterCapacityAndBound(t *testing.T) {
	tests := []struct {
		capacity, maxQueue int
	}{{1, 0}, {2, 3}, {4, 1}}
	for _, tt := range tests {
		l := NewLimiter(tt.capacity, tt.maxQueue)
		var releases []func()
		for range tt.capacity {
			r, err := l.Acquire(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			releases = append(releases, r)
		}
		if got := l.Running(); got != tt.capacity {
			t.Errorf("running: got %d, want %d", got, tt.capacity)
		}
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		for range tt.maxQueue {
			wg.Go(func() { l.Acquire(ctx) })
		}
		waitFor(t, "queue to fill", func() bool { return l.Queued() == tt.maxQueue })
		if _, err := l.Acquire(context.Background()); !errors.Is(err, ErrQueueFull) {
			t.Errorf("cap %d queue %d: got %v, want ErrQueueFull", tt.capacity, tt.maxQueue, err)
		}
		cancel()
		wg.Wait()
		for _, r := range releases {
			r()
			r() // a second call must not free a second slot
		}
		if got := l.Running() + l.Queued(); got != 0 {
			t.Errorf("after release: %d inside, want 0", got)
		}
	}
}

func TestLimiterCancelledWaiterLeavesQueue(t *testing.T) {
	l := NewLimiter(1, 5)
	hold, err := l.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		release, err := l.Acquire(ctx)
		if err == nil {
			release()
		}
		errc <- err
	}()
	waitFor(t, "waiter to queue", func() bool { return l.Queued() == 1 })
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	if got := l.Queued(); got != 0 {
		t.Errorf("queued after cancel: got %d, want 0", got)
	}
	hold()
	// The slot is free again for the next comer.
	release, err := l.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	release()
}

func TestDefaultQueueHoldsABurstOf1000(t *testing.T) {
	if l := NewLimiter(1, -1); l.maxQueue < 1000 {
		t.Fatalf("default queue bound %d cannot hold a burst of 1000", l.maxQueue)
	}
}
