package prefork

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

// checkEvery is how often the master checks heartbeats, answers and
// memory: often enough that a silent worker is killed within a quarter
// second of its timeout. Reading /proc for each worker costs microseconds.
const checkEvery = 250 * time.Millisecond

// checkInterval is how often the supervisor checks its workers' heartbeats,
// answers and memory; 0 when there is nothing to check.
func (r *supervisor) checkInterval() time.Duration {
	if r.m.workerTimeout == 0 && r.m.maxRequests == 0 && r.m.maxRSS == 0 {
		return 0
	}
	return r.m.checkEvery
}

// check is the watchdog and the limits. A ready worker silent on its status
// pipe for the worker timeout is killed (and replaced as a crash is): it
// cannot be trusted to finish anything. A worker past its answers or its
// memory is replaced gracefully: it keeps serving until its replacement is
// ready, then retires, finishing what it holds.
func (r *supervisor) check() {
	now := r.env.now()
	for _, p := range r.procs {
		if p.state != ready {
			continue
		}
		if r.m.workerTimeout > 0 {
			// A worker that never beat (an older binary) is judged from
			// when it became ready: every worker of this package beats.
			heard := p.lastHeard()
			if heard.IsZero() {
				heard = p.readyAt
			}
			if silent := now.Sub(heard); silent >= r.m.workerTimeout {
				r.m.log.Error("worker silent, killing", "worker", p.slot, "worker_pid", p.pid,
					"silent", silent.Round(time.Millisecond), "timeout", r.m.workerTimeout)
				r.kill(p)
				continue
			}
		}
		if p.maxRequests > 0 {
			st, _ := p.lastStats()
			if answered := st.Done + st.Failed; answered >= p.maxRequests {
				r.replace(p, fmt.Sprintf("answered %d jobs (max %d)", answered, p.maxRequests))
				continue
			}
		}
		if r.m.maxRSS > 0 {
			if rss := r.env.rss(p.pid); rss > r.m.maxRSS {
				r.replace(p, fmt.Sprintf("rss %d bytes over max %d", rss, r.m.maxRSS))
			}
		}
	}
}

// replace replaces p gracefully, through the rolling restart's steps for
// its slot alone: start a replacement, retire p once that is ready.
func (r *supervisor) replace(p *proc, why string) {
	if r.stopping || p.state != ready || p.replacing || p.slot >= r.target {
		return
	}
	p.replacing = true
	r.m.log.Info("replacing worker", "worker", p.slot, "worker_pid", p.pid, "reason", why)
	if r.roll != nil {
		if !slices.Contains(r.roll.queue, p.slot) {
			r.roll.queue = append(r.roll.queue, p.slot)
		}
		return
	}
	r.roll = &rolling{queue: []int{p.slot}}
	r.beginSlot()
}

// scaleReq is a request to Run's loop to change the number of workers.
type scaleReq struct {
	n     int  // the new count, or with delta the change
	delta bool // n is a change
	reply chan scaleResult
}

type scaleResult struct {
	n   int
	err error
}

// ErrCannotShrink is returned by Scale when workers cannot be removed
// without losing connections.
var ErrCannotShrink = errors.New("prefork: reuseport cannot remove a worker's socket without resetting the connections queued on it (set net.ipv4.tcp_migrate_req=1, or use the shared or rr balance)")

// scale sets the number of serving slots. New slots get a worker at once;
// a removed slot's worker retires gracefully: it stops taking connections,
// finishes what it holds and exits, and nothing replaces it.
func (r *supervisor) scale(req scaleReq) scaleResult {
	n := req.n
	if req.delta {
		n += r.target
	}
	switch {
	case r.stopping:
		return scaleResult{r.target, errors.New("prefork: stopping")}
	case n < 1:
		return scaleResult{r.target, fmt.Errorf("prefork: workers must be at least 1, got %d", n)}
	case n > maxWorkers:
		return scaleResult{r.target, fmt.Errorf("prefork: workers must be at most %d, got %d", maxWorkers, n)}
	case n < r.target && !r.m.canShrink():
		return scaleResult{r.target, ErrCannotShrink}
	}
	if err := r.m.growSockets(n); err != nil {
		return scaleResult{r.target, fmt.Errorf("prefork: scale to %d: %w", n, err)}
	}
	old := r.target
	r.target = n
	if r.m.count != nil {
		if err := writeCount(r.m.count, n); err != nil {
			r.m.log.Warn("workers will report the old count in /healthz", "error", err)
		}
	}
	for len(r.slotCrash) < n {
		r.slotCrash = append(r.slotCrash, 0)
		r.slotStarts = append(r.slotStarts, 0)
		r.respawning = append(r.respawning, false)
	}
	r.m.log.Info("scaling", "from", old, "to", n)
	for slot := old; slot < n; slot++ {
		if r.server(slot) == nil && !r.respawning[slot] {
			if err := r.spawn(slot); err != nil {
				r.fatal = err
				break
			}
		}
	}
	for _, p := range r.procs {
		if p.slot >= n && p.serving() {
			r.transition(p, retiring)
		}
	}
	if n < old {
		r.m.socks.shrink(n)
	}
	if r.roll != nil && len(r.roll.queue) > 1 { // queue[0] is in progress
		rest := slices.DeleteFunc(slices.Clone(r.roll.queue[1:]), func(s int) bool { return s >= n })
		r.roll.queue = append(r.roll.queue[:1], rest...)
	}
	return scaleResult{n, nil}
}

// scaledDown reports whether p's slot was removed by a scale-down, so its
// exit needs no replacement.
func (r *supervisor) scaledDown(p *proc) bool { return p.slot >= r.target }

// maxWorkers bounds Scale: each worker is a process of its own.
const maxWorkers = 1024

// Scale changes the number of workers by delta (SIGTTIN: +1, SIGTTOU: -1)
// and returns the new count. See SetWorkers.
func (m *Master) Scale(ctx context.Context, delta int) (int, error) {
	return m.askScale(ctx, scaleReq{n: delta, delta: true})
}

// SetWorkers sets the number of workers of a running master and returns
// it. Added workers start at once; a removed worker retires gracefully
// (it takes no more connections, finishes what it holds, and is not
// replaced). Under BalanceReusePort removing one closes its socket, which
// resets the connections queued on it unless the kernel migrates them
// (net.ipv4.tcp_migrate_req=1): without that, SetWorkers refuses to shrink
// with ErrCannotShrink. Safe from any goroutine.
func (m *Master) SetWorkers(ctx context.Context, n int) (int, error) {
	return m.askScale(ctx, scaleReq{n: n})
}

func (m *Master) askScale(ctx context.Context, req scaleReq) (int, error) {
	req.reply = make(chan scaleResult, 1)
	select {
	case m.scale <- req:
	case <-m.finished:
		return 0, errors.New("prefork: master has stopped")
	case <-ctx.Done():
		return 0, fmt.Errorf("prefork: scale: %w", ctx.Err())
	}
	res := <-req.reply
	return res.n, res.err
}

// canShrink reports whether a worker can be removed without resetting
// connections: its socket, if it has one of its own, must hand its queue
// to the others when closed.
func (m *Master) canShrink() bool {
	if m.balance != BalanceReusePort || m.socketless {
		return true
	}
	return migrateReq()
}

// growSockets makes sure slots 0 to n-1 have a socket: under
// BalanceReusePort each new slot gets one more socket in the group.
func (m *Master) growSockets(n int) error {
	if m.balance != BalanceReusePort || m.socketless {
		return nil
	}
	return m.socks.grow(context.Background(), n)
}
