package queueing

import (
	"container/heap"
	"fmt"
	"time"
)

// FIFO is an ideal server: Slots jobs run at once, each takes exactly Job,
// and requests start in arrival order as soon as a slot is free. No time is
// lost between jobs, so no real server can answer sooner.
type FIFO struct {
	Slots int
	Job   time.Duration
}

// Validate says what is wrong with f, if anything.
func (f FIFO) Validate() error {
	if err := f.validSlots(); err != nil {
		return err
	}
	if f.Job <= 0 {
		return fmt.Errorf("ideal FIFO server with job time %s: must be positive", f.Job)
	}
	return nil
}

func (f FIFO) validSlots() error {
	if f.Slots < 1 {
		return fmt.Errorf("ideal FIFO server with %d slots: need at least 1", f.Slots)
	}
	return nil
}

// Latencies returns each request's latency on f, from its arrival to the end
// of its job, in the order of arrivals: offsets from a common start, in
// ascending order (ties allowed, served in the order given).
func (f FIFO) Latencies(arrivals []time.Duration) ([]time.Duration, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	return f.pass(arrivals, func(int) time.Duration { return f.Job })
}

// LatenciesOf is Latencies when request i's job takes jobs[i] rather than
// f.Job: the ideal for the job times a server reported under the load, so
// that a machine that slows every job moves the ideal with it and what is
// left is the time requests waited while a slot stood free. f.Job is not
// used.
func (f FIFO) LatenciesOf(arrivals, jobs []time.Duration) ([]time.Duration, error) {
	if len(jobs) != len(arrivals) {
		return nil, fmt.Errorf("ideal FIFO server: %d job times for %d arrivals", len(jobs), len(arrivals))
	}
	if err := f.validSlots(); err != nil {
		return nil, err
	}
	for i, j := range jobs {
		if j <= 0 {
			return nil, fmt.Errorf("ideal FIFO server: job %d takes %s: must be positive", i, j)
		}
	}
	return f.pass(arrivals, func(i int) time.Duration { return jobs[i] })
}

// pass serves arrivals in order on f.Slots slots, request i's job taking
// job(i): one discrete-event pass.
func (f FIFO) pass(arrivals []time.Duration, job func(i int) time.Duration) ([]time.Duration, error) {
	free := make(slotHeap, f.Slots) // every slot is free from the start
	lat := make([]time.Duration, len(arrivals))
	for i, a := range arrivals {
		if i > 0 && a < arrivals[i-1] {
			return nil, fmt.Errorf("arrival %d at %s comes before arrival %d at %s: arrivals must be in order", i, a, i-1, arrivals[i-1])
		}
		end := max(a, free[0]) + job(i)
		free[0] = end
		heap.Fix(&free, 0)
		lat[i] = end - a
	}
	return lat, nil
}

// slotHeap holds the times the slots become free, earliest first.
type slotHeap []time.Duration

func (h slotHeap) Len() int           { return len(h) }
func (h slotHeap) Less(i, j int) bool { return h[i] < h[j] }
func (h slotHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }

// Push and Pop implement heap.Interface; the pass only fixes the root, so
// the heap never grows or shrinks.
func (h *slotHeap) Push(x any) { *h = append(*h, x.(time.Duration)) }
func (h *slotHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
