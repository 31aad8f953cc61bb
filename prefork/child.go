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
	"sync/atomic"
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
	started time.Time
	hand    *net.UnixConn              // the master's end of the hand-off socket (BalanceRR)
	sig     func(syscall.Signal) error // signals the process (os.Process.Signal, or a test's fake)
	ready   chan struct{}              // closed when the worker reports ready
	exited  chan struct{}              // closed once reaped; state, waitErr and failMsg are set then
	asked   chan struct{}              // closed when the worker asks to be replaced; askWhy is set then

	heard  atomic.Int64 // Unix nanoseconds of its last status line after "ready"; 0 before one
	askWhy string

	state   *os.ProcessState // nil if Wait failed before it could reap
	waitErr error
	failMsg string // the worker's "fail" reason, if any

	now func() time.Time

	statsMu sync.Mutex // the status reader writes the stats, Master.Workers reads them
	stats   jobstats.Stats
	statsAt time.Time
}

// startChild forks the worker for slot from sp's thread, handing it its
// listening socket (or its end of a hand-off socket) and the write end of a
// status pipe.
func startChild(m *Master, sp *spawn.Spawner, slot int, maxRequests int64, now func() time.Time) (*child, error) {
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
		envCountFD+"="+strconv.Itoa(countFD),
		envMaxRequests+"="+strconv.FormatInt(maxRequests, 10),
		"GOMAXPROCS=1",
	)
	cmd.Stdout, cmd.Stderr = m.stdout, m.stderr
	cmd.ExtraFiles = []*os.File{sock, statusW, m.count} // fds 3, 4 and 5
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: sigStop}
	err = sp.Start(cmd)
	statusW.Close()
	if err != nil {
		statusR.Close()
		closeHand(hand)
		return nil, fmt.Errorf("start worker %d: %w", slot, err)
	}
	c := newChild(slot, cmd.Process.Pid, now, func(sig syscall.Signal) error { return cmd.Process.Signal(sig) })
	c.hand = hand
	go c.watch(cmd, statusR)
	return c, nil
}

// newChild is the master's record of a process started at now; the caller
// closes ready, asked and exited as the process does those things.
func newChild(slot, pid int, now func() time.Time, sig func(syscall.Signal) error) *child {
	return &child{
		slot: slot, pid: pid, started: now(), sig: sig, now: now,
		ready: make(chan struct{}), exited: make(chan struct{}), asked: make(chan struct{}),
	}
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
func (c *child) watch(cmd *exec.Cmd, status *os.File) {
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		sc := bufio.NewScanner(status)
		for sc.Scan() {
			c.statusLine(sc.Text())
		}
	}()
	c.waitErr = cmd.Wait()
	select {
	case <-readDone:
	case <-time.After(time.Second): // a descendant holds the pipe open
	}
	status.Close()
	<-readDone
	c.state = cmd.ProcessState
	close(c.exited)
}

// statusLine takes one line of the status pipe. Every line after "ready"
// is a heartbeat for the watchdog. Only one goroutine calls it.
func (c *child) statusLine(line string) {
	isReady := isClosed(c.ready)
	if isReady {
		c.heard.Store(c.now().UnixNano())
	}
	switch {
	case line == statusReady && !isReady:
		close(c.ready)
	case strings.HasPrefix(line, statusFail):
		c.failMsg = strings.TrimPrefix(line, statusFail)
	case strings.HasPrefix(line, statusStats):
		c.setStats(strings.TrimPrefix(line, statusStats))
	case strings.HasPrefix(line, statusReplace) && !isClosed(c.asked):
		c.askWhy = strings.TrimPrefix(line, statusReplace)
		close(c.asked)
	}
}

// lastHeard is when the worker's last status line after "ready" came;
// zero if none has.
func (c *child) lastHeard() time.Time {
	n := c.heard.Load()
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}

func isClosed(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
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
	c.stats, c.statsAt = st, c.now()
}

// lastStats is the worker's last reported Stats and when they came.
func (c *child) lastStats() (jobstats.Stats, time.Time) {
	c.statsMu.Lock()
	defer c.statsMu.Unlock()
	return c.stats, c.statsAt
}

// signal sends sig unless the process is gone.
func (c *child) signal(sig syscall.Signal) error {
	if err := c.sig(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
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
