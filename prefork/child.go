package prefork

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/flipbench/flipbench/internal/spawn"
	"github.com/flipbench/flipbench/prefork/jobstats"
)

// child is one worker process as its master started it. It knows nothing of
// the supervisor: ready and exited say what happened.
type child struct {
	slot    int
	pid     int
	cmd     *exec.Cmd
	started time.Time
	hand    *net.UnixConn // the master's end of the hand-off socket (BalanceRR)
	ready   chan struct{} // closed when the worker reports ready
	exited  chan struct{} // closed once reaped; state, waitErr and failMsg are set then

	state   *os.ProcessState // nil if Wait failed before it could reap
	waitErr error
	failMsg string // the worker's "fail" reason, if any

	statsMu sync.Mutex // the status reader writes the stats, Master.Workers reads them
	stats   jobstats.Stats
	statsAt time.Time
}

// startChild forks the worker for slot from sp's thread, handing it its
// listening socket (or its end of a hand-off socket) and the write end of a
// status pipe.
func startChild(m *Master, sp *spawn.Spawner, slot int) (*child, error) {
	sock, hand, err := workerSocket(m, slot)
	if err != nil {
		return nil, err
	}
	if hand != nil {
		defer sock.Close() // the worker's end: only the worker keeps it
	}
	statusR, statusW, err := os.Pipe()
	if err != nil {
		closeHand(hand)
		return nil, fmt.Errorf("status pipe: %w", err)
	}
	cmd := exec.Command(m.path, m.args...)
	cmd.Env = append(os.Environ(),
		envWorker+"="+strconv.Itoa(slot),
		envMasterPID+"="+strconv.Itoa(os.Getpid()),
		envBalance+"="+string(m.balance),
		envListenFD+"="+strconv.Itoa(listenFD),
		envAddr+"="+m.socks.addr.String(),
		envStatusFD+"="+strconv.Itoa(statusFD),
		"GOMAXPROCS=1",
	)
	cmd.Stdout, cmd.Stderr = m.stdout, m.stderr
	cmd.ExtraFiles = []*os.File{sock, statusW} // fds 3 and 4
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: sigStop}
	err = sp.Start(cmd)
	statusW.Close()
	if err != nil {
		statusR.Close()
		closeHand(hand)
		return nil, fmt.Errorf("start worker %d: %w", slot, err)
	}
	c := &child{
		slot: slot, pid: cmd.Process.Pid, cmd: cmd, started: time.Now(), hand: hand,
		ready: make(chan struct{}), exited: make(chan struct{}),
	}
	go c.watch(statusR)
	return c, nil
}

// workerSocket is the socket a worker of slot inherits: its listening
// socket, or under BalanceRR its end of a new hand-off socket pair, whose
// other end (hand) stays with the master. SOCK_SEQPACKET keeps each message
// one packet; close-on-exec keeps the pair out of the other workers.
func workerSocket(m *Master, slot int) (sock *os.File, hand *net.UnixConn, err error) {
	if !m.balance.handsOff() {
		return m.socks.forSlot(slot), nil, nil
	}
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("hand-off socket for worker %d: %w", slot, err)
	}
	mine := os.NewFile(uintptr(fds[0]), "prefork-handoff")
	defer mine.Close() // FileConn keeps its own duplicate
	theirs := os.NewFile(uintptr(fds[1]), "prefork-handoff-worker")
	c, err := net.FileConn(mine)
	if err != nil {
		theirs.Close()
		return nil, nil, fmt.Errorf("hand-off socket for worker %d: %w", slot, err)
	}
	uc, ok := c.(*net.UnixConn)
	if !ok {
		c.Close()
		theirs.Close()
		return nil, nil, fmt.Errorf("hand-off socket for worker %d is a %T", slot, c)
	}
	return theirs, uc, nil
}

func closeHand(hand *net.UnixConn) {
	if hand != nil {
		hand.Close()
	}
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
			case strings.HasPrefix(line, statusStats):
				c.setStats(strings.TrimPrefix(line, statusStats))
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

// setStats records a "stats" line; a bad one is ignored, since a worker's
// counts are for watching, never for running the cluster.
func (c *child) setStats(text string) {
	st, err := parseStats(text)
	if err != nil {
		return
	}
	c.statsMu.Lock()
	defer c.statsMu.Unlock()
	c.stats, c.statsAt = st, time.Now()
}

// lastStats is the worker's last reported Stats and when they came.
func (c *child) lastStats() (jobstats.Stats, time.Time) {
	c.statsMu.Lock()
	defer c.statsMu.Unlock()
	return c.stats, c.statsAt
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
