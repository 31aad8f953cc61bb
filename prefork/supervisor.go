package prefork

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/flipbench/flipbench/prefork/jobstats"
)

// eventKind is what the supervisor reacts to, besides its context, Restart
// and its grace timers.
type eventKind int

const (
	evReady         eventKind = iota // p reported ready
	evExit                           // p exited and was reaped
	evReadyTimeout                   // p had the ready timeout to become ready
	evRetireTimeout                  // p had the grace period to retire
	evRespawn                        // slot's backoff has passed
	evAsked                          // p asked to be replaced
	evCheck                          // time for the watchdog and the limits
)

type event struct {
	kind eventKind
	p    *proc
	slot int
}

// supervisor is Run's state; only its loop goroutine touches it.
type supervisor struct {
	m      *Master
	env    env
	events chan event
	done   chan struct{} // closed when run returns: late posts are dropped

	nextID     int
	procs      map[int]*proc // live processes by id
	slotCrash  []int         // crashes in a row per slot, for the backoff
	slotStarts []int         // processes started per slot, for Workers' restarts
	respawning []bool        // slot has a respawn timer pending
	startFails int           // workers in a row that died before ready
	roll       *rolling      // the rolling restart in progress, if any
	// base is per slot the series of its processes that have exited, as
	// each last reported them: Totals adds the live ones'.
	base     map[int][]jobstats.Series
	target   int // slots 0 to target-1 serve; Scale changes it
	stopping bool
	fatal    error
}

func newSupervisor(m *Master, e env) *supervisor {
	return &supervisor{
		m:          m,
		env:        e,
		events:     make(chan event),
		done:       make(chan struct{}),
		procs:      map[int]*proc{},
		base:       map[int][]jobstats.Series{},
		slotCrash:  make([]int, m.workers),
		slotStarts: make([]int, m.workers),
		respawning: make([]bool, m.workers),
		target:     m.workers,
	}
}

// run starts a worker per slot and supervises them until ctx is done, then
// stops them and returns once every one has exited.
func (r *supervisor) run(ctx context.Context) error {
	defer close(r.done)
	for slot := range r.m.workers {
		if err := r.spawn(slot); err != nil {
			r.fatal = err
			break
		}
	}
	if interval := r.checkInterval(); interval > 0 {
		r.after(interval, event{kind: evCheck})
	}
	var graceC, killC <-chan time.Time
	if r.fatal != nil {
		r.m.log.Error("master giving up", "error", r.fatal)
		graceC = r.stop()
	}
	ctxDone := ctx.Done()
	for {
		if r.stopping && len(r.procs) == 0 {
			return r.fatal
		}
		select {
		case <-ctxDone:
			ctxDone = nil
			if !r.stopping {
				r.m.log.Info("master stopping", "master_pid", os.Getpid(), "grace", r.m.grace)
				graceC = r.stop()
			}
		case <-r.m.restart:
			r.startRolling()
		case req := <-r.m.snap:
			req <- r.snapshot()
		case req := <-r.m.totals:
			req <- r.sumSeries()
		case req := <-r.m.scale:
			req.reply <- r.scale(req)
		case <-graceC:
			graceC = nil
			for _, p := range r.procs {
				r.m.log.Warn("worker still running after grace, killing", "worker", p.slot, "worker_pid", p.pid)
				r.kill(p)
			}
			killC = time.After(5 * time.Second)
		case <-killC:
			return errors.Join(r.fatal, fmt.Errorf("prefork: %d workers did not exit after SIGKILL", len(r.procs)))
		case ev := <-r.events:
			r.handle(ev)
			if r.fatal != nil && !r.stopping {
				r.m.log.Error("master giving up", "error", r.fatal)
				graceC = r.stop()
			}
		}
	}
}

func (r *supervisor) post(ev event) {
	select {
	case r.events <- ev:
	case <-r.done:
	}
}

// after posts ev once d has passed.
func (r *supervisor) after(d time.Duration, ev event) {
	r.env.after(d, func() { r.post(ev) })
}

func (r *supervisor) handle(ev event) {
	switch ev.kind {
	case evCheck:
		r.check()
		if !r.stopping {
			r.after(r.checkInterval(), event{kind: evCheck})
		}
		return
	case evRespawn:
		r.respawning[ev.slot] = false
		if r.stopping || ev.slot >= r.target || r.server(ev.slot) != nil {
			return
		}
		if err := r.spawn(ev.slot); err != nil {
			r.fatal = err
		}
		return
	}
	p := ev.p
	if _, live := r.procs[p.id]; !live {
		return // a timer that fired after the exit
	}
	switch ev.kind {
	case evReady:
		if r.transition(p, ready) {
			r.rollReady(p)
		}
	case evReadyTimeout:
		if p.readyAt.IsZero() {
			r.m.log.Error("worker not ready in time, killing", "worker", p.slot, "worker_pid", p.pid, "timeout", r.m.readyTimeout)
			r.kill(p)
		}
	case evAsked:
		r.replace(p, "worker asked: "+p.askWhy)
	case evRetireTimeout:
		r.m.log.Warn("retiring worker still running after grace, killing", "worker", p.slot, "worker_pid", p.pid)
		r.kill(p)
	case evExit:
		r.exited(p)
	}
}

func (r *supervisor) exited(p *proc) {
	delete(r.procs, p.id)
	st, _ := p.lastStats()
	r.base[p.slot] = jobstats.Merge(r.base[p.slot], st.Series)
	if r.m.disp != nil {
		r.m.disp.detach(p.id)
	}
	r.logExit(p)
	if r.m.onExit != nil {
		r.m.onExit(p.slot, p.pid)
	}
	if r.rollExited(p) || r.scaledDown(p) || r.stopping || p.state == retiring {
		return
	}
	if p.readyAt.IsZero() {
		r.startFails++
		if r.startFails >= r.m.maxStartFails {
			r.fatal = fmt.Errorf("prefork: %d workers in a row died before becoming ready; last: worker %d (pid %d): %s",
				r.startFails, p.slot, p.pid, p.failReason())
			return
		}
	}
	if r.server(p.slot) == nil {
		r.scheduleRespawn(p.slot, p.readyAt)
	}
}

func (r *supervisor) logExit(p *proc) {
	attrs := append([]any{"worker", p.slot, "worker_pid", p.pid}, p.exitAttrs()...)
	reason := p.exitReason()
	attrs = append(attrs, "reason", reason)
	if reason == "crashed" {
		attrs = append(attrs, "uptime", r.env.now().Sub(p.started).Round(time.Millisecond))
	}
	if p.killed {
		attrs = append(attrs, "killed_by_master", true)
	}
	if p.failMsg != "" {
		attrs = append(attrs, "error", p.failMsg)
	}
	if p.state == stopping || p.state == retiring {
		r.m.log.Info("worker exited", attrs...)
	} else {
		r.m.log.Warn("worker exited", attrs...)
	}
}

// server is the live process that serves slot, or is starting to; nil if
// none does.
func (r *supervisor) server(slot int) *proc {
	for _, p := range r.procs {
		if p.slot == slot && p.serving() {
			return p
		}
	}
	return nil
}

// scheduleRespawn starts a new worker for slot after a backoff that doubles
// with each crash in a row; readyAt is when the last one became ready.
func (r *supervisor) scheduleRespawn(slot int, readyAt time.Time) {
	if r.respawning[slot] {
		return
	}
	if !readyAt.IsZero() && r.env.now().Sub(readyAt) >= StableAfter {
		r.slotCrash[slot] = 0
	}
	r.slotCrash[slot]++
	d := min(r.m.minBackoff<<min(r.slotCrash[slot]-1, 20), r.m.maxBackoff)
	r.respawning[slot] = true
	r.m.log.Info("restarting worker", "worker", slot, "backoff", d)
	r.after(d, event{kind: evRespawn, slot: slot})
}

// stop asks every worker to stop and returns the grace timer.
func (r *supervisor) stop() <-chan time.Time {
	r.stopping = true
	r.roll = nil
	if r.m.disp != nil {
		r.m.disp.stop()
	}
	for _, p := range r.procs {
		r.transition(p, stopping)
	}
	return time.After(r.m.grace)
}

// spawn starts a worker for slot, counting a failure to start as a start
// failure; it returns an error only when that makes the master give up.
func (r *supervisor) spawn(slot int) error {
	if _, err := r.start(slot); err != nil {
		r.startFails++
		r.m.log.Error("start worker", "worker", slot, "error", err)
		if r.startFails >= r.m.maxStartFails {
			return fmt.Errorf("prefork: %d workers in a row failed to start; last: %w", r.startFails, err)
		}
		r.scheduleRespawn(slot, time.Time{})
	}
	return nil
}

// start forks one worker process for slot and watches it.
func (r *supervisor) start(slot int) (*proc, error) {
	var limit int64
	if r.m.maxRequests > 0 {
		limit = r.m.maxRequests
		if r.m.maxRequestsJitter > 0 {
			limit += int64(r.env.intN(r.m.maxRequestsJitter + 1))
		}
	}
	c, err := r.env.start(slot, limit)
	if err != nil {
		return nil, err
	}
	r.nextID++
	r.slotStarts[slot]++
	p := &proc{child: c, id: r.nextID, state: starting, restarts: r.slotStarts[slot] - 1, maxRequests: limit}
	r.procs[p.id] = p
	if r.m.disp != nil {
		r.m.disp.attach(p.id, p.pid, c.hand)
	}
	r.m.log.Debug("worker started", "worker", slot, "worker_pid", p.pid)
	go r.watch(p)
	r.after(r.m.readyTimeout, event{kind: evReadyTimeout, p: p})
	return p, nil
}

// watch turns p's channels into events: ready (if it ever was), a request
// to be replaced, then exit.
func (r *supervisor) watch(p *proc) {
	readyC, askedC := p.ready, chan struct{}(nil) // an ask counts once ready
	for {
		select {
		case <-readyC:
			readyC, askedC = nil, p.asked
			r.post(event{kind: evReady, p: p})
			continue
		case <-askedC:
			askedC = nil
			r.post(event{kind: evAsked, p: p})
			continue
		case <-p.exited:
		}
		break
	}
	if readyC != nil && isClosed(readyC) { // closed before exited, if at all
		r.post(event{kind: evReady, p: p})
	}
	r.post(event{kind: evExit, p: p})
}

// snapshot is what Master.Workers returns: every live process.
func (r *supervisor) snapshot() []WorkerInfo {
	infos := make([]WorkerInfo, 0, len(r.procs))
	for _, p := range r.procs {
		st, at := p.lastStats()
		infos = append(infos, WorkerInfo{
			Index: p.slot, PID: p.pid, State: p.state.String(), Started: p.started,
			Restarts: p.restarts, Stats: st, StatsAt: at,
		})
	}
	slices.SortFunc(infos, func(a, b WorkerInfo) int {
		if c := cmp.Compare(a.Index, b.Index); c != 0 {
			return c
		}
		return a.Started.Compare(b.Started)
	})
	return infos
}
