package trial

import (
	"context"
	"fmt"
	"sync"
	"syscall"
	"time"

	"github.com/dustin/go-humanize"

	"github.com/flipbench/flipbench/internal/procfs"
	"github.com/flipbench/flipbench/loadtest"
	"github.com/flipbench/flipbench/runfolder"
)

// DefaultMaxRSSShare is the share of the machine's memory a server's
// processes may hold together before the guard stops it.
const DefaultMaxRSSShare = 0.5

// ParseSize reads a memory size such as "1500MiB", "8GiB" or "2GB".
func ParseSize(s string) (uint64, error) {
	n, err := humanize.ParseBytes(s)
	if err != nil {
		return 0, fmt.Errorf("size %q: %w (want e.g. 1500MiB or 8GiB)", s, err)
	}
	if n == 0 {
		return 0, fmt.Errorf("size %q: must be more than 0", s)
	}
	return n, nil
}

// memInterval is how often the memory guard samples a server's RSS: a Node
// job grows by about 1 GB in seconds, so 100 ms overshoots the budget by
// little.
const memInterval = 100 * time.Millisecond

// StoppedMemory is the stop reason (loadtest.StoppedReason) of a load the
// memory guard ended.
const StoppedMemory = "memory"

// MemoryGuard samples the summed RSS of a server's process group every interval
// during a load, keeps the peak and, when the sum passes budget (0: no
// budget), kills the whole group before it takes the machine down and stops
// the load with it.
type MemoryGuard struct {
	stop   chan struct{}
	done   chan struct{}
	cancel context.CancelCauseFunc

	mu   sync.Mutex
	peak uint64
	trip *runfolder.MemoryStop // set when the guard killed the group
}

// WatchMemory starts guarding group pgid, every memInterval, during a load
// of n requests; inFlight reports the jobs in flight when the guard trips.
// Run the load on the context it returns: when the guard kills the group it
// cancels that context with loadtest.Stop(StoppedMemory), so clients do not
// go on against a server that is gone. End it when the load is over.
func WatchMemory(ctx context.Context, pgid int, budget uint64, n int, inFlight func() int) (*MemoryGuard, context.Context) {
	load, cancel := context.WithCancelCause(ctx)
	w := &MemoryGuard{stop: make(chan struct{}), done: make(chan struct{}), cancel: cancel}
	go func() {
		defer close(w.done)
		t := time.NewTicker(memInterval)
		defer t.Stop()
		for {
			rss := procfs.GroupRSS(pgid)
			w.mu.Lock()
			w.peak = max(w.peak, rss)
			if budget > 0 && rss > budget && w.trip == nil {
				_ = syscall.Kill(-pgid, syscall.SIGKILL)
				w.trip = &runfolder.MemoryStop{Level: n, RSS: rss, Budget: budget, InFlight: inFlight()}
				cancel(loadtest.Stop(StoppedMemory))
			}
			w.mu.Unlock()
			select {
			case <-w.stop:
				return
			case <-t.C:
			}
		}
	}()
	return w, load
}

// End stops watching and returns the peak RSS seen and, if the guard killed
// the server, how.
func (w *MemoryGuard) End() (uint64, *runfolder.MemoryStop) {
	close(w.stop)
	<-w.done
	w.cancel(nil)
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.peak, w.trip
}
