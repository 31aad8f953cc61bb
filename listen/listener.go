package listen

import (
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// drainQuiet is how long a draining Listener that is not a socket (a test's)
// waits for one more connection before it takes its queue for empty.
const drainQuiet = 20 * time.Millisecond

// drainMax bounds a drain: against a steady stream of new connections the
// queue never stays empty, and a stop must still end. It is long enough for a
// busy process to take a queue of thousands.
const drainMax = 10 * time.Second

// state is where a Listener is in its life; it only moves forward.
type state int

const (
	serving  state = iota
	draining       // take what is queued, ungated, until the queue is empty
	stopped        // accept nothing more; the socket stays open
)

// deadliner is the part of *net.TCPListener that waking and draining need.
type deadliner interface {
	SetDeadline(t time.Time) error
}

// Option configures a Listener.
type Option func(*Listener)

// Gated makes Accept admit a connection only while the work of the
// connections it admitted is below capacity (see Gate), so that a connection
// stays in the kernel's queue, where another process sharing the socket can
// take it, while this one is busy. Serve the listener with ConnState and
// ConnContext as the http.Server's hooks. A capacity below 1 means no gate
// (the default).
func Gated(capacity int) Option {
	return func(l *Listener) {
		if capacity > 0 {
			l.gate = NewGate(capacity)
		}
	}
}

// OnFirstAccept sets a function called once, when Accept is first called:
// the owner then knows its server has entered its accept loop.
func OnFirstAccept(f func()) Option { return func(l *Listener) { l.onFirst = f } }

// Listener wraps a net.Listener with a gate, a drain and a stop. Accept may
// be called from one goroutine at a time, as net/http does.
type Listener struct {
	net.Listener

	gate    *Gate // nil: no gate
	onFirst func()
	first   sync.Once

	mu         sync.Mutex // guards state, drainUntil and the deadlines set on Listener
	state      state
	drainUntil time.Time
	wake       chan struct{} // closed when state leaves serving
	stopped    chan struct{} // closed when Accept has seen the stopped state, or on Close
	stopOnce   sync.Once

	closed    chan struct{}
	closeOnce sync.Once
	closeErr  error
}

// New wraps ln. The wrapper takes ln over: Close closes it.
func New(ln net.Listener, opts ...Option) *Listener {
	l := &Listener{
		Listener: ln,
		wake:     make(chan struct{}),
		stopped:  make(chan struct{}),
		closed:   make(chan struct{}),
	}
	for _, o := range opts {
		o(l)
	}
	return l
}

// Accept waits for a free slot (with a gate) and the next connection. Once
// stopped it blocks until Close and then returns net.ErrClosed.
func (l *Listener) Accept() (net.Conn, error) {
	l.first.Do(func() {
		if l.onFirst != nil {
			l.onFirst()
		}
	})
	for {
		switch l.getState() {
		case stopped:
			l.markStopped()
			<-l.closed
			return nil, net.ErrClosed
		case draining:
			c, err := l.acceptDraining()
			if c != nil || err != nil {
				return c, err
			}
			continue // the queue is empty: now stopped
		}
		if l.gate != nil && !l.gate.Acquire(l.wake, l.closed) {
			if l.isClosed() {
				return nil, net.ErrClosed
			}
			continue // Drain or Stop
		}
		c, err := l.Listener.Accept()
		if err != nil {
			if l.gate != nil {
				l.gate.Release()
			}
			if isTimeout(err) && l.getState() != serving {
				continue // Drain or Stop woke us up
			}
			return nil, err
		}
		if l.gate != nil {
			return admit(c, l.gate), nil
		}
		return c, nil
	}
}

func (l *Listener) isClosed() bool {
	select {
	case <-l.closed:
		return true
	default:
		return false
	}
}

// acceptDraining takes one queued connection, outside the gate: it was
// queued before the stop. It returns (nil, nil) and moves to stopped when
// the kernel's queue is empty or the drain has run for drainMax.
func (l *Listener) acceptDraining() (net.Conn, error) {
	l.mu.Lock()
	over := l.state != draining || !time.Now().Before(l.drainUntil)
	l.mu.Unlock()
	if !over {
		if sc, ok := l.Listener.(syscall.Conn); ok {
			c, err := acceptNow(sc)
			if c != nil || (err != nil && !errors.Is(err, errQueueEmpty)) {
				return c, err
			}
		} else if c, err := l.acceptQuiet(); c != nil || err != nil {
			return c, err
		}
	}
	l.setState(stopped)
	return nil, nil
}

// errQueueEmpty is acceptNow's answer when no connection is queued.
var errQueueEmpty = errors.New("accept queue empty")

// acceptNow takes one connection from the kernel's accept queue without
// waiting: it asks the kernel directly (accept4 on the non-blocking socket),
// so an empty queue is known exactly, however late this goroutine runs. A
// drain timed by a deadline instead ends early when a busy process is not
// scheduled in time, and resets what it left queued.
func acceptNow(sc syscall.Conn) (net.Conn, error) {
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil, fmt.Errorf("drain: %w", err)
	}
	nfd := -1
	var aerr error
	if err := rc.Control(func(fd uintptr) {
		for {
			nfd, _, aerr = unix.Accept4(int(fd), unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
			if !errors.Is(aerr, unix.EINTR) && !errors.Is(aerr, unix.ECONNABORTED) {
				return
			}
		}
	}); err != nil {
		return nil, fmt.Errorf("drain: %w", err)
	}
	switch {
	case errors.Is(aerr, unix.EAGAIN):
		return nil, errQueueEmpty
	case aerr != nil:
		return nil, fmt.Errorf("drain: accept: %w", aerr)
	}
	f := os.NewFile(uintptr(nfd), "drained-conn")
	defer f.Close() // FileConn keeps its own duplicate
	c, err := net.FileConn(f)
	if err != nil {
		return nil, fmt.Errorf("drain: %w", err)
	}
	return c, nil
}

// acceptQuiet takes one connection from a listener that is not a socket (a
// test's), waiting at most drainQuiet for it.
func (l *Listener) acceptQuiet() (net.Conn, error) {
	d, ok := l.Listener.(deadliner)
	if !ok {
		return nil, nil
	}
	l.mu.Lock()
	ok = d.SetDeadline(time.Now().Add(drainQuiet)) == nil
	l.mu.Unlock()
	if !ok {
		return nil, nil
	}
	c, err := l.Listener.Accept()
	if err != nil && isTimeout(err) {
		return nil, nil
	}
	return c, err
}

func (l *Listener) getState() state {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.state
}

// setState moves to a later state and wakes a blocked Accept.
func (l *Listener) setState(s state) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if s <= l.state {
		return
	}
	if l.state == serving {
		close(l.wake)
	}
	l.state = s
	if s == draining {
		l.drainUntil = time.Now().Add(drainMax)
	}
	if d, ok := l.Listener.(deadliner); ok {
		_ = d.SetDeadline(time.Now()) // wake a blocked Accept; a drain re-arms it
	}
}

func (l *Listener) markStopped() { l.stopOnce.Do(func() { close(l.stopped) }) }

// Drain makes Accept take every connection still queued in the kernel,
// without the gate, and then stop once the queue is empty (or after
// drainMax). A Listener already stopped stays stopped.
func (l *Listener) Drain() { l.setState(draining) }

// Stop makes Accept return no more connections at once; the socket stays
// open, so what is queued stays for another process sharing it.
func (l *Listener) Stop() { l.setState(stopped) }

// Stopped is closed once Accept will return no more connections: Accept
// has seen the stop, or the Listener was closed.
func (l *Listener) Stopped() <-chan struct{} { return l.stopped }

// Close closes the socket; connections already accepted stay open.
func (l *Listener) Close() error {
	l.closeOnce.Do(func() {
		close(l.closed)
		l.markStopped()
		l.closeErr = l.Listener.Close()
	})
	return l.closeErr
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
