package prefork

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/flipbench/flipbench/internal/spawn"
)

// child is one worker process as its master started it. It knows nothing of
// the supervisor: ready and exited say what happened.
type child struct {
	slot    int
	pid     int
	cmd     *exec.Cmd
	started time.Time
	ready   chan struct{} // closed when the worker reports ready
	exited  chan struct{} // closed once reaped; state, waitErr and failMsg are set then

	state   *os.ProcessState // nil if Wait failed before it could reap
	waitErr error
	failMsg string // the worker's "fail" reason, if any
}

// startChild forks the worker for slot from sp's thread, handing it its
// listening socket and the write end of a status pipe.
func startChild(m *Master, sp *spawn.Spawner, slot int) (*child, error) {
	statusR, statusW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("status pipe: %w", err)
	}
	cmd := exec.Command(m.path, m.args...)
	cmd.Env = append(os.Environ(),
		envWorker+"="+strconv.Itoa(slot),
		envMasterPID+"="+strconv.Itoa(os.Getpid()),
		envBalance+"="+string(m.balance),
		envListenFD+"="+strconv.Itoa(listenFD),
		envStatusFD+"="+strconv.Itoa(statusFD),
		"GOMAXPROCS=1",
	)
	cmd.Stdout, cmd.Stderr = m.stdout, m.stderr
	cmd.ExtraFiles = []*os.File{m.socks.forSlot(slot), statusW} // fds 3 and 4
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: sigStop}
	err = sp.Start(cmd)
	statusW.Close()
	if err != nil {
		statusR.Close()
		return nil, fmt.Errorf("start worker %d: %w", slot, err)
	}
	c := &child{
		slot: slot, pid: cmd.Process.Pid, cmd: cmd, started: time.Now(),
		ready: make(chan struct{}), exited: make(chan struct{}),
	}
	go c.watch(statusR)
	return c, nil
}

// watch reads the status pipe, then reaps the process.
func (c *child) watch(status *os.File) {
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		sc := bufio.NewScanner(status)
		isReady := false
		for sc.Scan() {
			switch line := sc.Text(); {
			case line == statusReady && !isReady:
				isReady = true
				close(c.ready)
			case strings.HasPrefix(line, statusFail):
				c.failMsg = strings.TrimPrefix(line, statusFail)
			}
		}
	}()
	c.waitErr = c.cmd.Wait()
	select {
	case <-readDone:
	case <-time.After(time.Second): // a descendant holds the pipe open
	}
	status.Close()
	<-readDone
	c.state = c.cmd.ProcessState
	close(c.exited)
}

// signal sends sig unless the process is gone.
func (c *child) signal(sig syscall.Signal) error {
	if err := c.cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("signal worker %d (pid %d): %w", c.slot, c.pid, err)
	}
	return nil
}

// exitAttrs describes how the process ended, for a log line.
func (c *child) exitAttrs() []any {
	ws, ok := waitStatus(c.state)
	switch {
	case c.state == nil:
		return []any{"code", "unknown", "wait_error", c.waitErr}
	case ok && ws.Signaled():
		return []any{"signal", ws.Signal().String()}
	}
	return []any{"code", c.state.ExitCode()}
}

// failReason is why a worker that never became ready ended.
func (c *child) failReason() string {
	if c.failMsg != "" {
		return c.failMsg
	}
	if c.state == nil {
		return "unknown exit"
	}
	return c.state.String()
}

// waitStatus is ps's wait status; ps may be nil.
func waitStatus(ps *os.ProcessState) (syscall.WaitStatus, bool) {
	if ps == nil {
		return 0, false
	}
	ws, ok := ps.Sys().(syscall.WaitStatus)
	return ws, ok
}
