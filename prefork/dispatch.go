package prefork

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/flipbench/flipbench/listen"
)

// acceptBackoff is how long the master waits after a failed accept (out of
// file descriptors, say) before it tries again, instead of spinning.
const acceptBackoff = 50 * time.Millisecond

// dispatcher is the master side of BalanceRR. It accepts every connection on
// the master's socket and hands each to a worker with a free job slot,
// round-robin. The master keeps its own descriptor of a connection until the
// worker says it took it, so a hand-off that is refused, that fails, or
// whose worker dies before taking it goes to another worker.
type dispatcher struct {
	ln  *listen.Listener
	log *slog.Logger

	ops  chan func()   // run by the loop goroutine, which alone touches the fields below
	quit chan struct{} // closed by close: the loop ends
	done chan struct{} // closed when the loop has ended

	waiting    []*handoff // accepted, not handed over; oldest first
	peers      []*peer    // attached workers, in round-robin order
	next       int        // where the round-robin search starts
	nextID     uint64
	stopping   bool            // final stop: hand everything out, then "end"
	drained    <-chan struct{} // the final stop's drain of the socket; nil before and after
	acceptDone bool            // the drain is over: nothing more will be accepted
}

// handoff is a connection the master accepted.
type handoff struct {
	id   uint64
	conn net.Conn
}

// peerState is what a worker last told the master about itself.
type peerState int

const (
	peerServing  peerState = iota // asks for a connection per free slot
	peerDraining                  // final stop: takes what comes until "end"
	peerRefusing                  // retiring: refuses what comes
)

// peer is one worker as the dispatcher sees it.
type peer struct {
	proc     int // the proc's id
	pid      int
	uc       *net.UnixConn
	out      *outbox
	state    peerState
	credits  int                 // free slots it asked to fill
	inflight map[uint64]*handoff // sent, not yet taken or refused
	ended    bool                // "end" was sent
	gone     bool
}

// newDispatcher starts accepting on ln. Until workers attach, connections
// wait in the master.
func newDispatcher(ln net.Listener, log *slog.Logger) *dispatcher {
	d := &dispatcher{
		ln:   listen.New(ln),
		log:  log,
		ops:  make(chan func()),
		quit: make(chan struct{}),
		done: make(chan struct{}),
	}
	go d.loop()
	go d.accept()
	return d
}

// do hands f to the loop goroutine, which runs it next, and reports whether
// it did (false once the dispatcher is closed).
func (d *dispatcher) do(f func()) bool {
	select {
	case d.ops <- f:
		return true
	case <-d.done:
		return false
	}
}

func (d *dispatcher) loop() {
	defer close(d.done)
	for {
		select {
		case f := <-d.ops:
			f()
		case <-d.drained:
			d.drained = nil
			d.acceptDone = true
			d.dispatch()
		case <-d.quit:
			for _, h := range d.waiting {
				h.conn.Close()
			}
			d.waiting = nil
			for len(d.peers) > 0 {
				d.lose(d.peers[0], nil)
			}
			return
		}
	}
}

// accept feeds the loop with the master socket's connections until the
// socket is closed.
func (d *dispatcher) accept() {
	for {
		c, err := d.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			d.log.Warn("master accept", "error", err)
			select {
			case <-time.After(acceptBackoff):
			case <-d.done:
				return
			}
			continue
		}
		if !d.do(func() { d.add(c) }) {
			c.Close()
			return
		}
	}
}

// close ends the dispatcher: it closes the waiting connections, the
// workers' hand-off sockets and the master's socket.
// It may be called once.
func (d *dispatcher) close() {
	d.ln.Close()
	close(d.quit)
	<-d.done
}

// attach adds a worker whose end of the hand-off socket is uc; the
// dispatcher owns uc from now on.
func (d *dispatcher) attach(proc, pid int, uc *net.UnixConn) {
	p := &peer{proc: proc, pid: pid, uc: uc, out: newOutbox(), inflight: map[uint64]*handoff{}}
	if !d.do(func() { d.peers = append(d.peers, p) }) {
		uc.Close()
		return
	}
	go d.read(p)
	go d.write(p)
}

// detach forgets the worker of proc (it exited): what it had not taken goes
// to the others.
func (d *dispatcher) detach(proc int) {
	d.do(func() {
		for _, p := range d.peers {
			if p.proc == proc {
				d.lose(p, nil)
				return
			}
		}
	})
}

// stop begins the final stop: the master takes what is queued on its socket
// and then accepts nothing more, hands every waiting connection out whether
// or not a worker has a free slot (the workers are draining), and tells
// each draining worker "end" once nothing is left in the master.
func (d *dispatcher) stop() {
	d.do(func() {
		d.stopping = true
		d.ln.Drain()
		d.drained = d.ln.Stopped()
		d.dispatch()
	})
}

// dispatchStats is what the dispatcher holds, for tests.
type dispatchStats struct {
	waiting  int         // connections waiting in the master
	inflight map[int]int // per worker pid: handed over, not yet taken
	credits  map[int]int // per worker pid: free slots asked for
}

func (d *dispatcher) stats() dispatchStats {
	s := dispatchStats{inflight: map[int]int{}, credits: map[int]int{}}
	ran := make(chan struct{})
	if d.do(func() {
		defer close(ran)
		s.waiting = len(d.waiting)
		for _, p := range d.peers {
			s.inflight[p.pid] = len(p.inflight)
			s.credits[p.pid] = p.credits
		}
	}) {
		<-ran
	}
	return s
}

func (d *dispatcher) add(c net.Conn) {
	d.nextID++
	d.waiting = append(d.waiting, &handoff{id: d.nextID, conn: c})
	d.dispatch()
}

// dispatch hands waiting connections to free workers, then tells draining
// workers "end" when nothing more can come to them.
func (d *dispatcher) dispatch() {
	for len(d.waiting) > 0 {
		p := d.pick()
		if p == nil {
			break
		}
		h := d.waiting[0]
		d.waiting = d.waiting[1:]
		if p.credits > 0 {
			p.credits--
		}
		p.inflight[h.id] = h
		p.out.put(outMsg{text: msgConn + " " + strconv.FormatUint(h.id, 10), conn: h.conn})
	}
	d.maybeEnd()
}

// pick is the next worker, round-robin, with a free slot; in a final stop,
// any worker not refusing.
func (d *dispatcher) pick() *peer {
	n := len(d.peers)
	for _, ok := range []func(*peer) bool{
		func(p *peer) bool { return p.state == peerServing && p.credits > 0 },
		func(p *peer) bool { return d.stopping && p.state != peerRefusing },
	} {
		for i := range n {
			j := (d.next + i) % n
			if ok(d.peers[j]) {
				d.next = (j + 1) % n
				return d.peers[j]
			}
		}
	}
	return nil
}

func (d *dispatcher) maybeEnd() {
	if d.stopping {
		// A connection still out may come back (refused, or its worker
		// died): every draining worker must be there to take it.
		if !d.acceptDone || len(d.waiting) > 0 {
			return
		}
		for _, p := range d.peers {
			if len(p.inflight) > 0 {
				return
			}
		}
	}
	for _, p := range d.peers {
		if p.state == peerDraining && !p.ended && len(p.inflight) == 0 {
			p.ended = true
			p.out.put(outMsg{text: msgEnd})
		}
	}
}

// handle acts on one message from p.
func (d *dispatcher) handle(p *peer, msg string) {
	if p.gone {
		return
	}
	kind, arg, _ := strings.Cut(msg, " ")
	switch kind {
	case msgFree:
		if p.state == peerServing {
			p.credits++
		}
	case msgTook, msgRefused:
		id, err := strconv.ParseUint(arg, 10, 64)
		h := p.inflight[id]
		if err != nil || h == nil {
			d.log.Warn("hand-off: unknown connection", "worker_pid", p.pid, "message", msg)
			return
		}
		delete(p.inflight, id)
		if kind == msgTook {
			h.conn.Close() // the worker has its own descriptor
		} else {
			d.waiting = slices.Insert(d.waiting, 0, h)
		}
	case msgDrain:
		p.state, p.credits = peerDraining, 0
	case msgStop:
		p.state, p.credits = peerRefusing, 0
	default:
		d.log.Warn("hand-off: unknown message", "worker_pid", p.pid, "message", msg)
		return
	}
	d.dispatch()
}

// lose drops p, whose socket failed (err) or whose process exited (nil):
// what it had not taken goes back to the front of the queue, oldest first.
func (d *dispatcher) lose(p *peer, err error) {
	if p.gone {
		return
	}
	p.gone = true
	i := slices.Index(d.peers, p)
	d.peers = slices.Delete(d.peers, i, i+1)
	if d.next > i {
		d.next--
	}
	p.out.close()
	p.uc.Close()
	back := make([]*handoff, 0, len(p.inflight))
	for _, h := range p.inflight {
		back = append(back, h)
	}
	slices.SortFunc(back, func(a, b *handoff) int { return cmp.Compare(a.id, b.id) })
	d.waiting = slices.Insert(d.waiting, 0, back...)
	if len(back) > 0 {
		d.log.Info("hand-off: worker gone, its connections go to others",
			"worker_pid", p.pid, "connections", len(back), "error", err)
	}
	d.dispatch()
}

// read turns p's messages into loop work until its socket ends.
func (d *dispatcher) read(p *peer) {
	buf := make([]byte, maxMsg)
	for {
		n, err := p.uc.Read(buf)
		if err == nil && n == 0 {
			err = errors.New("empty packet")
		}
		if err != nil {
			d.do(func() { d.lose(p, err) })
			return
		}
		msg := string(buf[:n])
		if !d.do(func() { d.handle(p, msg) }) {
			return
		}
	}
}

// write sends p's outbox in order; a failed send loses p.
func (d *dispatcher) write(p *peer) {
	for {
		msgs, ok := p.out.take()
		if !ok {
			return
		}
		for _, m := range msgs {
			if err := sendMsg(p.uc, m); err != nil {
				err = fmt.Errorf("hand-off to worker pid %d: %w", p.pid, err)
				d.do(func() { d.lose(p, err) })
				return
			}
		}
	}
}

// sendMsg sends one packet, with m.conn's descriptor if it has one. It
// takes the descriptor with SyscallConn().Control: File().Fd() would turn
// the socket blocking, and Control keeps it open while it is sent.
func sendMsg(uc *net.UnixConn, m outMsg) error {
	if m.conn == nil {
		_, err := uc.Write([]byte(m.text))
		return err
	}
	sc, ok := m.conn.(syscall.Conn)
	if !ok {
		return fmt.Errorf("connection %T has no descriptor", m.conn)
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return err
	}
	var werr error
	if err := rc.Control(func(fd uintptr) {
		_, _, werr = uc.WriteMsgUnix([]byte(m.text), unix.UnixRights(int(fd)), nil)
	}); err != nil {
		return err
	}
	return werr
}

// outMsg is a packet waiting to be sent to a worker.
type outMsg struct {
	text string
	conn net.Conn // its descriptor rides along; nil for none
}

// outbox is a worker's queue of packets: unbounded, because a final stop
// hands out every waiting connection at once, and a full socket must block
// only that worker's writer, never the loop.
type outbox struct {
	mu     sync.Mutex
	msgs   []outMsg
	closed bool
	wake   chan struct{}
}

func newOutbox() *outbox { return &outbox{wake: make(chan struct{}, 1)} }

func (o *outbox) put(m outMsg) {
	o.mu.Lock()
	o.msgs = append(o.msgs, m)
	o.mu.Unlock()
	poke(o.wake)
}

func (o *outbox) close() {
	o.mu.Lock()
	o.closed = true
	o.mu.Unlock()
	poke(o.wake)
}

// take waits for packets and returns them all; false once closed.
func (o *outbox) take() ([]outMsg, bool) {
	for {
		o.mu.Lock()
		msgs, closed := o.msgs, o.closed
		o.msgs = nil
		o.mu.Unlock()
		if closed {
			return nil, false
		}
		if len(msgs) > 0 {
			return msgs, true
		}
		<-o.wake
	}
}
