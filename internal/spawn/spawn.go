// Package spawn starts child processes from one OS thread that outlives them.
// Linux delivers a child's Pdeathsig when the thread that forked it exits, not
// the process, and the Go runtime may end any thread it no longer needs; a
// child forked from such a thread would get its signal while its parent lives.
package spawn

import (
	"errors"
	"os/exec"
	"runtime"
	"sync"
)

// Spawner starts child processes from one goroutine locked to its OS thread.
type Spawner struct {
	reqs   chan request
	done   chan struct{}
	mu     sync.Mutex
	closed bool
}

type request struct {
	cmd  *exec.Cmd
	errc chan error
}

// New starts the spawner's thread.
func New() *Spawner {
	s := &Spawner{reqs: make(chan request), done: make(chan struct{})}
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with this goroutine
		defer close(s.done)
		for r := range s.reqs {
			r.errc <- r.cmd.Start()
		}
	}()
	return s
}

// Start starts cmd from the spawner's thread. The caller sets cmd.SysProcAttr
// (Pdeathsig etc.).
func (s *Spawner) Start(cmd *exec.Cmd) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errors.New("spawn: Start after Close")
	}
	errc := make(chan error, 1)
	s.reqs <- request{cmd: cmd, errc: errc}
	return <-errc
}

// Close ends the thread; call it only after every child started by Start has
// exited (their Pdeathsig would fire).
func (s *Spawner) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		s.closed = true
		close(s.reqs)
		<-s.done
	}
}
