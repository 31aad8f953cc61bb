// Package spawn starts child processes from one OS thread that outlives
// them, so that a child's Pdeathsig means "my parent process is gone".
package spawn

import (
	"errors"
	"fmt"
	"os/exec"
	"runtime"
	"sync"
)

// errClosed is returned by Start after Close.
var errClosed = errors.New("spawn: spawner closed")

// Spawner starts child processes from one OS thread. Linux sends a child
// its Pdeathsig when the thread that forked it exits, not when the process
// does, and the Go runtime may end any thread a goroutine is not locked to.
// A Spawner forks every child from one goroutine locked to its thread, and
// that thread lives until Close.
type Spawner struct {
	reqs      chan request
	quit      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

type request struct {
	cmd  *exec.Cmd
	errc chan error
}

// New starts the spawner's thread.
func New() *Spawner {
	s := &Spawner{reqs: make(chan request), quit: make(chan struct{}), done: make(chan struct{})}
	go s.loop()
	return s
}

func (s *Spawner) loop() {
	runtime.LockOSThread() // never unlocked: the thread ends with this goroutine
	defer close(s.done)
	for {
		select {
		case r := <-s.reqs:
			select {
			case <-s.quit: // Close raced with this Start: the child would die at once
				r.errc <- errClosed
			default:
				r.errc <- r.cmd.Start()
			}
		case <-s.quit:
			return
		}
	}
}

// Start starts cmd from the spawner's thread. The caller sets
// cmd.SysProcAttr (Pdeathsig etc.).
func (s *Spawner) Start(cmd *exec.Cmd) error {
	r := request{cmd: cmd, errc: make(chan error, 1)}
	select {
	case s.reqs <- r:
	case <-s.quit:
		return errClosed
	}
	if err := <-r.errc; err != nil {
		return fmt.Errorf("spawn %s: %w", cmd.Path, err)
	}
	return nil
}

// Close ends the thread; call it only after every child started by Start
// has exited (their Pdeathsig would fire). Start after Close returns an
// error. Should the thread be the process's main thread, which never ends,
// the runtime parks it instead.
func (s *Spawner) Close() {
	s.closeOnce.Do(func() { close(s.quit) })
	<-s.done
}
