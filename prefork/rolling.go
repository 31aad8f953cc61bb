package prefork

// rolling is a rolling restart in progress: slot by slot, start a
// replacement, wait until it is ready, then retire the old worker and wait
// for it to exit.
type rolling struct {
	queue []int // slots still to replace; queue[0] is in progress
	old   *proc // the worker being replaced, until it exits
	repl  *proc // its replacement
	again bool  // another restart was asked for meanwhile: run it after
}

func (r *supervisor) startRolling() {
	if r.stopping {
		return
	}
	if r.roll != nil {
		r.roll.again = true
		return
	}
	r.m.log.Info("rolling restart", "workers", r.target)
	r.roll = &rolling{}
	for slot := range r.target {
		r.roll.queue = append(r.roll.queue, slot)
	}
	r.beginSlot()
}

// beginSlot starts the replacement for roll.queue[0].
func (r *supervisor) beginSlot() {
	for r.roll != nil {
		if len(r.roll.queue) == 0 {
			r.m.log.Info("rolling restart done")
			again := r.roll.again
			r.roll = nil
			if again {
				r.startRolling()
			}
			return
		}
		slot := r.roll.queue[0]
		old := r.server(slot)
		if old == nil { // crashed and pending respawn: that one will be fresh
			r.roll.queue = r.roll.queue[1:]
			continue
		}
		p, err := r.start(slot)
		if err != nil {
			r.m.log.Error("rolling restart aborted", "worker", slot, "error", err)
			r.roll = nil
			return
		}
		r.roll.old, r.roll.repl = old, p
		return
	}
}

// rollReady retires the old worker once its replacement p is ready.
func (r *supervisor) rollReady(p *proc) {
	if r.roll == nil || r.roll.repl != p {
		return
	}
	if r.roll.old == nil { // it died meanwhile
		r.nextSlot()
		return
	}
	r.transition(r.roll.old, retiring)
}

// rollExited moves the restart on after p exited. It reports whether that
// was all there is to do about p's exit.
func (r *supervisor) rollExited(p *proc) bool {
	if r.roll == nil {
		return false
	}
	switch p {
	case r.roll.repl:
		if !p.readyAt.IsZero() {
			return false // it crashed after taking over: an ordinary crash
		}
		r.m.log.Error("rolling restart aborted: replacement died before ready",
			"worker", p.slot, "worker_pid", p.pid, "error", p.failMsg)
		r.roll = nil
		if r.server(p.slot) == nil {
			r.scheduleRespawn(p.slot, p.readyAt)
		}
		return true
	case r.roll.old:
		r.roll.old = nil
		if r.roll.repl == nil || !r.roll.repl.readyAt.IsZero() {
			r.nextSlot()
		}
		return p.state == retiring
	}
	return false
}

func (r *supervisor) nextSlot() {
	r.roll.queue = r.roll.queue[1:]
	r.roll.old, r.roll.repl = nil, nil
	r.beginSlot()
}
