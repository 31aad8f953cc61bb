package prefork

import (
	"syscall"
	"time"
)

// procState is where a worker process is in its life, as its master sees
// it. It only moves forward: starting, ready, then retiring or stopping.
type procState int

const (
	starting procState = iota // forked, not yet ready
	ready                     // serving: its App has entered its accept loop
	retiring                  // told to hand over (sigRetire): a replacement serves its slot
	stopping                  // told to stop (sigStop): the master is stopping
)

func (s procState) String() string {
	switch s {
	case starting:
		return "starting"
	case ready:
		return "ready"
	case retiring:
		return "retiring"
	case stopping:
		return "stopping"
	}
	return "unknown"
}

// proc is a worker process and what the master knows of it.
type proc struct {
	*child
	id       int
	state    procState
	readyAt  time.Time // when it became ready; zero if it never did
	killed   bool      // the master sent it SIGKILL, in whatever state
	restarts int       // processes its slot had before it

	maxRequests int64 // answers after which it is replaced; 0: no limit
	replacing   bool  // a graceful replacement has been asked for
}

// serving reports whether p serves its slot, or is starting to.
func (p *proc) serving() bool { return p.state == starting || p.state == ready }

// exitReason names, for the log, why p ended, judging by its state then.
func (p *proc) exitReason() string {
	switch {
	case p.state == stopping:
		return "stopped"
	case p.state == retiring:
		return "retired"
	case p.readyAt.IsZero():
		return "died before ready"
	}
	return "crashed"
}

// transition moves p to state to and does what the move means. Every
// change of a proc's state goes through here. It reports whether p moved;
// a move the state does not allow (a late event) is ignored.
func (r *supervisor) transition(p *proc, to procState) bool {
	from := p.state
	switch {
	case from == starting && to == ready:
	case from == stopping && to == ready:
		// It came up after the stop began. It stays stopping, but was ready.
		r.online(p)
		r.signal(p, sigStop) // the first may have come before its handler
		return false
	case (from == starting || from == ready) && to == retiring:
	case from != stopping && to == stopping:
	default:
		return false
	}
	p.state = to
	switch to {
	case ready:
		r.online(p)
	case retiring:
		r.signal(p, sigRetire)
		r.after(r.m.grace, event{kind: evRetireTimeout, p: p})
	case stopping:
		r.signal(p, sigStop)
	}
	return true
}

// online records that p became ready.
func (r *supervisor) online(p *proc) {
	p.readyAt = r.env.now()
	r.startFails = 0
	r.m.log.Info("worker online", "worker", p.slot, "worker_pid", p.pid)
}

// kill sends SIGKILL; p keeps its state, so its exit says what it was doing.
func (r *supervisor) kill(p *proc) {
	p.killed = true
	r.signal(p, syscall.SIGKILL)
}

func (r *supervisor) signal(p *proc, sig syscall.Signal) {
	if err := p.signal(sig); err != nil {
		r.m.log.Warn("signal worker", "worker", p.slot, "worker_pid", p.pid, "signal", sig.String(), "error", err)
	}
}
