package listen

import (
	"errors"
	"net"
	"sync"
	"time"
)

// drainQuiet is how long a draining Listener waits for one more queued
// connection before it takes the kernel's queue for empty.
const drainQuiet = 20 * time.Millisecond

// drainMax bounds a drain: against a steady stream of new connections the
// queue never stays empty, and a stop must still end.
const drainMax = 2 * time.Second

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

// Gate makes Accept wait until fewer than capacity of its connections are
// open, so that a connection stays in the kernel's queue, where another
// process sharing the socket can take it, while this one is busy. A
// capacity below 1 means no gate (the default).
func Gate(capacity int) Option {
	return func(l *Listener) {
		if capacity > 0 {
			l.slots = make(chan struct{}, capacity)
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

	slots   chan struct{} // nil: no gate; else one token per open gated connection
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
		if gated {
			return &slotConn{Conn: c, slots: l.slots}, nil
		}
		return c, nil
	}
}

// acceptDraining takes one queued connection, outside the gate: it was
// queued before the stop. It returns (nil, nil) and moves to stopped when
// none arrives within drainQuiet or the drain has run for drainMax.
func (l *Listener) acceptDraining() (net.Conn, error) {
	d, ok := l.Listener.(deadliner)
	if ok {
		l.mu.Lock()
		now := time.Now()
		deadline := now.Add(drainQuiet)
		if l.drainUntil.Before(deadline) {
			deadline = l.drainUntil
		}
		ok = l.state == draining && now.Before(deadline) && d.SetDeadline(deadline) == nil
		l.mu.Unlock()
	}
	if ok {
		c, err := l.Listener.Accept()
		if err == nil {
			return c, nil
		}
		if !isTimeout(err) {
			return nil, err
		}
	}
	l.setState(stopped)
	return nil, nil
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
// without the gate, and then stop once the queue has stayed empty for
// drainQuiet (or after drainMax). A Listener already stopped stays stopped.
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

// slotConn gives its gate slot back when closed.
type slotConn struct {
	net.Conn
	slots chan struct{}
	once  sync.Once
}

// Close closes the connection and frees its slot.
func (c *slotConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { <-c.slots })
	return err
}
