package prefork

import (
	"net"
	"os"
	"strings"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/flipbench/flipbench/listen"
)

// handoffState is where a handoffListener is in its life; it only moves
// forward.
type handoffState int

const (
	handoffServing  handoffState = iota // asks for a connection per free slot
	handoffDraining                     // asks for nothing; takes what comes until "end"
	handoffStopped                      // asks for nothing; refuses what comes
)

// handoffListener is the worker side of BalanceRR: the net.Listener an App
// serves, fed with the connections the master hands over on the worker's
// Unix socket. It asks the master for a connection each time its gate
// (listen.Gate: work, not connections) has a free unit, so connections that
// wait, wait in the master. Like listen.Listener it can
// drain (a final stop) and stop (a retirement), which is all that
// server.ServeGracefully and Worker.Serve need.
type handoffListener struct {
	uc      *net.UnixConn
	addr    net.Addr
	gate    *listen.Gate
	onFirst func()
	first   sync.Once

	mu       sync.Mutex
	state    handoffState
	pending  []pendingConn // received, not yet accepted; the master still holds them
	reserved int           // units of work acquired for "free"s not yet answered
	answered chan struct{} // poked when a "free" is answered
	ended    bool          // the master said "end", or its end of the socket closed
	isClosed bool

	asking     chan struct{} // closed when the listener asks for nothing more
	askingOnce sync.Once

	wake      chan struct{} // something changed that Accept waits for
	stopped   chan struct{} // closed when Accept will return nothing more
	stopOnce  sync.Once
	closed    chan struct{}
	closeOnce sync.Once
	closeErr  error
}

// pendingConn is a connection received from the master, with its id.
type pendingConn struct {
	id   string
	conn net.Conn
	held bool // it came against a "free": it holds a unit of the gate's work
}

// newHandoffListener serves the connections that come on uc; addr is what
// Addr reports (the master's address), capacity the App's job slots, and
// onFirst is called on the first Accept. It takes uc over.
func newHandoffListener(uc *net.UnixConn, addr net.Addr, capacity int, onFirst func()) *handoffListener {
	l := &handoffListener{
		uc: uc, addr: addr, onFirst: onFirst,
		asking:   make(chan struct{}),
		answered: make(chan struct{}, 1),
		wake:     make(chan struct{}, 1),
		stopped:  make(chan struct{}),
		closed:   make(chan struct{}),
	}
	l.gate = listen.NewGate(capacity)
	go l.read()
	return l
}

// Accept returns the next connection the master handed over, telling the
// master that the App has it. On the first call it starts asking for
// connections. Once stopped it blocks until Close and returns net.ErrClosed.
func (l *handoffListener) Accept() (net.Conn, error) {
	l.first.Do(func() {
		if l.onFirst != nil {
			l.onFirst()
		}
		go l.ask()
	})
	for {
		l.mu.Lock()
		switch {
		case l.isClosed:
			l.mu.Unlock()
			return nil, net.ErrClosed
		case l.state == handoffStopped:
			l.mu.Unlock()
			l.markStopped()
			<-l.closed
			return nil, net.ErrClosed
		case len(l.pending) > 0:
			pc := l.pending[0]
			l.pending = l.pending[1:]
			l.mu.Unlock()
			// If the master is gone, the connection is ours alone: serve it.
			l.send(msgTook + " " + pc.id)
			if pc.held {
				return l.gate.Admit(pc.conn), nil
			}
			return pc.conn, nil // handed out in a final stop, past the gate
		case l.state == handoffDraining && l.ended:
			l.state = handoffStopped
			l.mu.Unlock()
			continue
		}
		l.mu.Unlock()
		select {
		case <-l.wake:
		case <-l.closed:
		}
	}
}

// ask says "free" to the master each time the gate has a free unit of
// work, until the listener stops asking.
//
// At most capacity "free"s are out at once: one the gate grants on a turn
// (past its capacity) reserves a unit until a connection comes for it, and
// with none waiting in the master, reserving on every turn would fill the
// gate with reservations and shut out the next burst.
func (l *handoffListener) ask() {
	for l.waitRoomToAsk() && l.gate.Acquire(l.asking, l.closed) {
		l.mu.Lock()
		serving := l.state == handoffServing
		if serving {
			l.reserved++
		}
		l.mu.Unlock()
		if !serving {
			l.gate.Release()
			return
		}
		l.send(msgFree)
	}
}

// waitRoomToAsk waits until fewer than capacity "free"s are out; false once
// the listener asks for nothing more.
func (l *handoffListener) waitRoomToAsk() bool {
	for {
		l.mu.Lock()
		room := l.reserved < l.gate.Capacity()
		l.mu.Unlock()
		if room {
			return true
		}
		select {
		case <-l.answered:
		case <-l.asking:
			return false
		case <-l.closed:
			return false
		}
	}
}

// unreserve gives back the unit of a "free" that brought no connection.
func (l *handoffListener) unreserve() {
	l.mu.Lock()
	had := l.reserved > 0
	if had {
		l.reserved--
	}
	l.mu.Unlock()
	if had {
		l.gate.Release()
		poke(l.answered)
	}
}

// stopAsking ends ask; what it reserved no longer matters, as the worker is
// stopping.
func (l *handoffListener) stopAsking() { l.askingOnce.Do(func() { close(l.asking) }) }

// send writes one packet to the master. A failure means the master is gone;
// the worker notices that by its parent PID and stops.
func (l *handoffListener) send(msg string) { _, _ = l.uc.Write([]byte(msg)) }

// poke wakes whoever waits on wake, a channel of capacity 1, without
// blocking: one pending wake-up is enough, the waiter rechecks its state.
func poke(wake chan struct{}) {
	select {
	case wake <- struct{}{}:
	default:
	}
}

// read receives the master's packets until the socket ends.
func (l *handoffListener) read() {
	buf := make([]byte, maxMsg)
	oob := make([]byte, unix.CmsgSpace(4*4)) // one descriptor is expected; room to see more
	for {
		n, oobn, flags, _, err := l.uc.ReadMsgUnix(buf, oob)
		if err != nil || (n == 0 && oobn == 0) {
			l.end()
			return
		}
		conns := receiveConns(oob[:oobn])
		kind, id, _ := strings.Cut(string(buf[:n]), " ")
		switch {
		case kind == msgConn && len(conns) == 1 && flags&unix.MSG_CTRUNC == 0:
			l.take(id, conns[0])
			continue
		case kind == msgConn:
			// Its descriptor did not arrive whole: the master still has
			// the connection and gives it to another worker; the unit it
			// came for is free again.
			l.unreserve()
			l.send(msgRefused + " " + id)
		case kind == msgEnd:
			l.end()
		}
		closeConns(conns)
	}
}

// receiveConns turns the descriptors in a packet's control data into
// connections. net.FileConn duplicates each; the received one is closed.
func receiveConns(oob []byte) []net.Conn {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return nil
	}
	var conns []net.Conn
	for i := range msgs {
		fds, err := unix.ParseUnixRights(&msgs[i])
		if err != nil {
			continue
		}
		for _, fd := range fds {
			f := os.NewFile(uintptr(fd), "handed-conn")
			c, err := net.FileConn(f)
			f.Close()
			if err == nil {
				conns = append(conns, c)
			}
		}
	}
	return conns
}

func closeConns(conns []net.Conn) {
	for _, c := range conns {
		c.Close()
	}
}

// take queues a received connection for Accept, or refuses it once stopped.
func (l *handoffListener) take(id string, c net.Conn) {
	l.mu.Lock()
	switch {
	case l.isClosed:
		l.mu.Unlock()
		c.Close() // the master sees the socket close and hands it on
		return
	case l.state == handoffStopped:
		l.mu.Unlock()
		c.Close()
		l.send(msgRefused + " " + id)
		return
	}
	held := l.reserved > 0
	if held {
		l.reserved--
		poke(l.answered)
	}
	l.pending = append(l.pending, pendingConn{id: id, conn: c, held: held})
	l.mu.Unlock()
	poke(l.wake)
}

// end records that nothing more will come from the master.
func (l *handoffListener) end() {
	l.mu.Lock()
	l.ended = true
	l.mu.Unlock()
	poke(l.wake)
}

// Drain asks the master for nothing more and makes Accept take what the
// master hands over until it says "end" (on a final stop it first hands out
// every connection waiting in it), then stop.
func (l *handoffListener) Drain() {
	l.mu.Lock()
	if l.state != handoffServing {
		l.mu.Unlock()
		return
	}
	l.state = handoffDraining
	l.mu.Unlock()
	l.stopAsking()
	l.send(msgDrain)
	poke(l.wake)
}

// Stop makes Accept return no more connections at once: the master is told
// to send nothing more, and what it sent but the App has not taken goes back
// to it, for another worker.
func (l *handoffListener) Stop() {
	l.mu.Lock()
	if l.state == handoffStopped {
		l.mu.Unlock()
		return
	}
	l.state = handoffStopped
	back := l.pending
	l.pending = nil
	l.mu.Unlock()
	l.stopAsking()
	l.send(msgStop)
	l.refuse(back)
	poke(l.wake)
}

func (l *handoffListener) refuse(back []pendingConn) {
	for _, pc := range back {
		pc.conn.Close()
		if pc.held {
			l.gate.Release()
		}
		l.send(msgRefused + " " + pc.id)
	}
}

// Stopped is closed once Accept will return no more connections.
func (l *handoffListener) Stopped() <-chan struct{} { return l.stopped }

func (l *handoffListener) markStopped() { l.stopOnce.Do(func() { close(l.stopped) }) }

// Close gives back what the App has not taken and closes the hand-off
// socket; connections already accepted stay open.
func (l *handoffListener) Close() error {
	l.closeOnce.Do(func() {
		l.mu.Lock()
		l.isClosed = true
		back := l.pending
		l.pending = nil
		l.mu.Unlock()
		l.refuse(back)
		l.stopAsking()
		close(l.closed)
		l.markStopped()
		l.closeErr = l.uc.Close()
	})
	return l.closeErr
}

// Addr is the address the master serves.
func (l *handoffListener) Addr() net.Addr { return l.addr }
