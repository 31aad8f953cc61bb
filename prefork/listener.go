package prefork

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// listenReusePort binds n TCP sockets to addr with SO_REUSEPORT and returns
// them as files (the master never accepts on them). If addr has port 0, the
// first socket picks the port and the others join it.
func listenReusePort(ctx context.Context, addr string, n int) ([]*os.File, net.Addr, error) {
	if err := probePort(ctx, addr); err != nil {
		return nil, nil, err
	}
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		if err := c.Control(func(fd uintptr) {
			serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
		}); err != nil {
			return err
		}
		if serr != nil {
			return fmt.Errorf("set SO_REUSEPORT: %w", serr)
		}
		return nil
	}}
	var (
		files []*os.File
		bound net.Addr
	)
	for i := range n {
		a := addr
		if i > 0 {
			a = bound.String()
		}
		f, la, err := listenFile(ctx, lc, a)
		if err != nil {
			closeFiles(files)
			return nil, nil, err
		}
		if i == 0 {
			bound = la
		}
		files = append(files, f)
	}
	return files, bound, nil
}

// probePort checks that addr's port is free by binding it once without
// SO_REUSEPORT. Linux lets a second SO_REUSEPORT group of the same user bind
// a port that a first one holds, so without the probe a leftover cluster
// would silently share the port with this one instead of failing.
func probePort(ctx context.Context, addr string) error {
	if _, port, err := net.SplitHostPort(addr); err == nil && (port == "" || port == "0") {
		return nil // the kernel picks a free port
	}
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", addr)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return fmt.Errorf("port of %s is taken (another server, or a cluster still running?): %w", addr, err)
		}
		return err
	}
	if err := ln.Close(); err != nil {
		return fmt.Errorf("probe %s: %w", addr, err)
	}
	return nil
}

// listenShared binds one plain TCP socket to addr and returns it as a file.
func listenShared(ctx context.Context, addr string) (*os.File, net.Addr, error) {
	return listenFile(ctx, net.ListenConfig{}, addr)
}

// listenFile listens on addr and returns a duplicate of the socket as a file
// for exec.Cmd.ExtraFiles. It does not use TCPListener.File: that file's Fd
// method, which exec.Cmd.Start calls, clears O_NONBLOCK on the open file
// description that every process holding the socket shares. A worker then
// accepting meanwhile would block in the kernel where no deadline can wake
// it, and a stop would hang until the grace period's SIGKILL. A descriptor
// given to os.NewFile keeps its mode.
func listenFile(ctx context.Context, lc net.ListenConfig, addr string) (*os.File, net.Addr, error) {
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, nil, err
	}
	defer ln.Close() // the duplicate keeps the socket open
	tl, ok := ln.(*net.TCPListener)
	if !ok {
		return nil, nil, fmt.Errorf("listen %s: not a TCP listener", addr)
	}
	rc, err := tl.SyscallConn()
	if err != nil {
		return nil, nil, fmt.Errorf("listen %s: %w", addr, err)
	}
	var (
		dup  int
		derr error
	)
	if err := rc.Control(func(fd uintptr) {
		dup, derr = unix.FcntlInt(fd, unix.F_DUPFD_CLOEXEC, 0)
	}); err != nil {
		return nil, nil, fmt.Errorf("listen %s: %w", addr, err)
	}
	if derr != nil {
		return nil, nil, fmt.Errorf("listen %s: duplicate socket: %w", addr, derr)
	}
	return os.NewFile(uintptr(dup), "prefork-listener:"+ln.Addr().String()), ln.Addr(), nil
}

func closeFiles(files []*os.File) {
	for _, f := range files {
		f.Close()
	}
}

// drainQuiet is how long a draining listener waits for one more queued
// connection before it takes the queue for empty.
const drainQuiet = 20 * time.Millisecond

// silentAfter is how long an accepted connection that has sent nothing is
// waited for when settling (net/http's Shutdown uses the same 5 s for its
// StateNew connections).
const silentAfter = 5 * time.Second

// deadliner is the part of *net.TCPListener that draining needs.
type deadliner interface {
	SetDeadline(t time.Time) error
}

// Listener states.
const (
	serving  = iota
	draining // take what is queued, ungated, until the queue is empty
	stopped  // accept nothing more
)

// workerListener is the listener a worker hands to its App. It reports the
// first Accept (the App serves), can gate Accept on free job slots (shared
// balancing), can drain (accept, without gating, whatever is still queued in
// the kernel) and stop accepting without closing, and tracks its connections
// so that a stop can wait until every accepted request has been answered.
type workerListener struct {
	net.Listener

	slots   chan struct{} // nil: no gating; else one token per connection in hand
	onFirst func()
	first   sync.Once

	mu      sync.Mutex // guards state, conns, and the deadlines set on Listener
	state   int
	conns   map[*trackedConn]struct{}
	wake    chan struct{} // closed when state leaves serving
	stopped chan struct{} // closed when Accept has seen the stopped state
	stopEnd sync.Once

	closed    chan struct{}
	closeOnce sync.Once
	closeErr  error
}

// newWorkerListener wraps ln. capacity > 0 turns gating on.
func newWorkerListener(ln net.Listener, capacity int, onFirst func()) *workerListener {
	l := &workerListener{
		Listener: ln,
		onFirst:  onFirst,
		conns:    map[*trackedConn]struct{}{},
		wake:     make(chan struct{}),
		stopped:  make(chan struct{}),
		closed:   make(chan struct{}),
	}
	if capacity > 0 {
		l.slots = make(chan struct{}, capacity)
	}
	return l
}

// Accept waits for a free slot (when gating) and the next connection.
func (l *workerListener) Accept() (net.Conn, error) {
	l.first.Do(func() {
		if l.onFirst != nil {
			l.onFirst()
		}
	})
	for {
		switch l.getState() {
		case stopped:
			l.stopEnd.Do(func() { close(l.stopped) })
			<-l.closed
			return nil, net.ErrClosed
		case draining:
			c, err := l.acceptDraining()
			if c != nil || err != nil {
				return c, err
			}
			continue // the queue is empty: now stopped
		}
		gated := false
		if l.slots != nil {
			select {
			case l.slots <- struct{}{}:
				gated = true
			case <-l.wake:
				continue
			case <-l.closed:
				return nil, net.ErrClosed
			}
		}
		c, err := l.Listener.Accept()
		if err != nil {
			if gated {
				<-l.slots
			}
			if isTimeout(err) && l.getState() != serving {
				continue // Drain or Stop woke us up
			}
			return nil, err
		}
		return l.track(c, gated), nil
	}
}

// acceptDraining takes one queued connection; it returns (nil, nil) and
// switches to stopped when none arrives within drainQuiet.
func (l *workerListener) acceptDraining() (net.Conn, error) {
	d, ok := l.Listener.(deadliner)
	if ok {
		l.mu.Lock()
		ok = l.state == draining && d.SetDeadline(time.Now().Add(drainQuiet)) == nil
		l.mu.Unlock()
	}
	if ok {
		c, err := l.Listener.Accept()
		if err == nil {
			return l.track(c, false), nil // queued before the stop: taken outside the gate
		}
		if !isTimeout(err) {
			return nil, err
		}
	}
	l.setState(stopped)
	return nil, nil
}

func (l *workerListener) getState() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.state
}

// setState moves to a later state and wakes a blocked Accept.
func (l *workerListener) setState(s int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if s <= l.state {
		return
	}
	if l.state == serving {
		close(l.wake)
	}
	l.state = s
	if d, ok := l.Listener.(deadliner); ok {
		_ = d.SetDeadline(time.Now()) // wake a blocked Accept; drain mode re-arms it
	}
}

// Drain makes Accept take every connection still queued, without gating,
// and then stop once the queue has stayed empty for drainQuiet.
func (l *workerListener) Drain() { l.setState(draining) }

// Stop makes Accept return no more connections; the socket stays open.
func (l *workerListener) Stop() { l.setState(stopped) }

// Stopped is closed once Accept will return no more connections.
func (l *workerListener) Stopped() <-chan struct{} { return l.stopped }

// Unanswered counts accepted connections, still open, that have not written
// a byte, leaving out those silent for silentAfter since they were accepted.
func (l *workerListener) Unanswered() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for c := range l.conns {
		if c.wrote.Load() {
			continue
		}
		if !c.read.Load() && time.Since(c.accepted) >= silentAfter {
			continue
		}
		n++
	}
	return n
}

// Close closes the listener; connections already accepted stay open.
func (l *workerListener) Close() error {
	l.closeOnce.Do(func() {
		close(l.closed)
		l.closeErr = l.Listener.Close()
	})
	return l.closeErr
}

func (l *workerListener) track(c net.Conn, gated bool) net.Conn {
	tc := &trackedConn{Conn: c, l: l, gated: gated, accepted: time.Now()}
	l.mu.Lock()
	l.conns[tc] = struct{}{}
	l.mu.Unlock()
	return tc
}

func (l *workerListener) forget(tc *trackedConn) {
	l.mu.Lock()
	delete(l.conns, tc)
	l.mu.Unlock()
	if tc.gated {
		<-l.slots
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// trackedConn records whether its request arrived and its answer left, and
// gives its gate slot back when closed.
type trackedConn struct {
	net.Conn
	l        *workerListener
	gated    bool
	accepted time.Time
	read     atomic.Bool
	wrote    atomic.Bool
	once     sync.Once
}

// Read reads from the connection.
func (c *trackedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.read.Store(true)
	}
	return n, err
}

// Write writes to the connection.
func (c *trackedConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	if n > 0 {
		c.wrote.Store(true)
	}
	return n, err
}

// Close closes the connection and frees its slot.
func (c *trackedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.l.forget(c) })
	return err
}
