package listen

import (
	"net"
	"sync"
	"time"
)

// DefaultFreshGrace is how long a new connection holds a unit of work while
// its client has sent nothing: a client that connects and writes at once (a
// burst) keeps its place, one that connects and stays silent (a browser's
// preconnect, a slowloris) gives it up after this.
const DefaultFreshGrace = 100 * time.Millisecond

// Gate admits connections by work, not by connection. A connection holds
// one unit of its gate's work while it is new work: from its admission
// until its first request is answered. It gives the unit back early while
// its client is slow to send that request (a second read before the headers
// are whole, or nothing sent within the grace) or while the handler waits
// for the request's body. The gate admits a connection while its work is
// below its capacity, so what waits stays in the kernel's queue (or the
// master's), where another worker can take it: a burst of one request per
// connection is spread as before.
//
// Once answered, a kept-alive connection is the worker's own, as in Node's
// cluster: its later requests queue in the worker, and it holds nothing,
// idle or busy. Each answer on such a connection earns the gate one turn:
// one admission past its capacity (it banks at most capacity turns). So a
// worker that its kept-alive clients keep busy still lets waiting
// connections in, at the pace it answers, and every client gets in.
// Counting every request instead would starve clients: a worker of capacity
// 1 whose two kept-alive clients send back to back never falls below one
// request, and would never admit another connection.
//
// A Gate has one waiter at a time (one accept loop). Its zero value is not
// usable; make one with NewGate.
type Gate struct {
	capacity int
	grace    time.Duration

	mu    sync.Mutex
	held  int
	turns int           // admissions earned by answers on kept-alive connections; at most capacity
	free  chan struct{} // poked when held falls or a turn is earned
}

// NewGate makes a gate of capacity units of work (at least 1).
func NewGate(capacity int) *Gate {
	return &Gate{capacity: max(capacity, 1), grace: DefaultFreshGrace, free: make(chan struct{}, 1)}
}

// Capacity is the gate's capacity.
func (g *Gate) Capacity() int { return g.capacity }

// Held is the work held now: new connections and requests being answered.
func (g *Gate) Held() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.held
}

// Acquire waits until the work is below the capacity and takes one unit, for
// a connection about to be admitted. It returns false, taking nothing, when
// stop or closed is closed first (a nil channel never is).
func (g *Gate) Acquire(stop, closed <-chan struct{}) bool {
	for {
		g.mu.Lock()
		if g.held < g.capacity || g.turns > 0 {
			if g.held >= g.capacity {
				g.turns--
			}
			g.held++
			g.mu.Unlock()
			return true
		}
		g.mu.Unlock()
		select {
		case <-g.free:
		case <-stop:
			return false
		case <-closed:
			return false
		}
	}
}

// Admit wraps c, a connection admitted with the unit of work its caller
// acquired: from now on c takes and gives back its unit as it goes from new
// to answered (see Gate), once served with ConnState and ConnContext.
func (g *Gate) Admit(c net.Conn) net.Conn { return admit(c, g) }

// hold takes one unit whatever the work: a request read on a connection
// already admitted must be counted.
func (g *Gate) hold() {
	g.mu.Lock()
	g.held++
	g.mu.Unlock()
}

// Release gives back one unit and wakes the waiter.
func (g *Gate) Release() {
	g.mu.Lock()
	g.held--
	g.mu.Unlock()
	g.wake()
}

// turn records an answer on a kept-alive connection: one more admission
// may pass the capacity.
func (g *Gate) turn() {
	if countsConnections {
		return
	}
	g.mu.Lock()
	g.turns = min(g.turns+1, g.capacity)
	g.mu.Unlock()
	g.wake()
}

func (g *Gate) wake() {
	select {
	case g.free <- struct{}{}:
	default:
	}
}
