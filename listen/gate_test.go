package listen

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/flipbench/flipbench/internal/testproc"
)

// wouldAdmit reports whether g would admit a connection now, without
// waiting: Acquire with a closed stop returns false unless a unit is free.
// It spends a turn, if one admits.
func wouldAdmit(g *Gate) bool {
	stop := make(chan struct{})
	close(stop)
	if g.Acquire(stop, nil) {
		g.Release()
		return true
	}
	return false
}

func TestGateTurns(t *testing.T) {
	g := NewGate(1)
	if !g.Acquire(nil, nil) {
		t.Fatal("an empty gate did not admit")
	}
	if wouldAdmit(g) {
		t.Fatal("a full gate admits")
	}
	g.turn()
	g.turn() // banks at most capacity (1) turns
	stop := make(chan struct{})
	close(stop)
	if !g.Acquire(stop, nil) {
		t.Fatal("a full gate with a turn does not admit")
	}
	if wouldAdmit(g) {
		t.Fatalf("turns banked past the capacity: held %d", g.Held())
	}
}

// gatedServer serves an http.Server on a gate of capacity 1 whose handler
// for /block waits until release gets a value; entered gets one when it
// starts. /body waits for its body after AwaitBody.
type gatedServer struct {
	ln      *Listener
	entered chan string
	release chan struct{}
	bodyIn  chan struct{} // AwaitBody was called
	conns   chan *conn    // each admitted connection, server side
}

func newGatedServer(t *testing.T, grace time.Duration) *gatedServer {
	t.Helper()
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gs := &gatedServer{
		ln:      New(inner, Gated(1)),
		entered: make(chan string, 10),
		release: make(chan struct{}, 10),
		bodyIn:  make(chan struct{}, 10),
		conns:   make(chan *conn, 10),
	}
	gs.ln.gate.grace = grace
	mux := http.NewServeMux()
	mux.HandleFunc("/block", func(w http.ResponseWriter, r *http.Request) {
		gs.entered <- r.URL.Path
		<-gs.release
	})
	mux.HandleFunc("/body", func(w http.ResponseWriter, r *http.Request) {
		done := AwaitBody(r.Context())
		gs.bodyIn <- struct{}{}
		io.Copy(io.Discard, r.Body)
		done()
		gs.entered <- r.URL.Path
		<-gs.release
	})
	mux.HandleFunc("/", func(http.ResponseWriter, *http.Request) {})
	hs := &http.Server{Handler: mux, ConnContext: ConnContext, ConnState: func(c net.Conn, s http.ConnState) {
		if s == http.StateNew {
			gs.conns <- c.(*conn)
		}
		ConnState(c, s)
	}}
	go hs.Serve(gs.ln)
	t.Cleanup(func() {
		close(gs.release)
		hs.Close()
	})
	return gs
}

// waitHolding waits until the server side of a connection does (or does
// not) hold a unit of work. The gate's own count is no witness: the accept
// loop reserves the next unit before it waits for a connection.
func waitHolding(t *testing.T, gc *conn, want bool) {
	t.Helper()
	var got bool
	if !testproc.Poll(10*time.Second, func() bool {
		gc.mu.Lock()
		defer gc.mu.Unlock()
		got = gc.holding
		return got == want
	}) {
		t.Fatalf("connection holds work: %v, want %v", got, want)
	}
}

func (gs *gatedServer) admitted(t *testing.T) *conn {
	t.Helper()
	select {
	case gc := <-gs.conns:
		return gc
	case <-time.After(10 * time.Second):
		t.Fatal("no connection admitted")
		return nil
	}
}

func (gs *gatedServer) waitEntered(t *testing.T) {
	t.Helper()
	select {
	case <-gs.entered:
	case <-time.After(10 * time.Second):
		t.Fatal("the handler was not entered")
	}
}

// client is a kept-alive connection driven by hand.
type client struct {
	c net.Conn
	r *bufio.Reader
}

func (gs *gatedServer) dial(t *testing.T) *client {
	c := dial(t, gs.ln.Addr().String())
	return &client{c: c, r: bufio.NewReader(c)}
}

func (c *client) send(t *testing.T, path string) {
	t.Helper()
	if _, err := fmt.Fprintf(c.c, "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", path); err != nil {
		t.Fatal(err)
	}
}

func (c *client) answer(t *testing.T) {
	t.Helper()
	c.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(c.r, nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
}

// The gate counts a connection's first request, not the connection: an
// idle kept-alive connection, and later requests on it, hold nothing, and
// each answer on it earns a turn.
func TestGateCountsFirstRequestsNotConnections(t *testing.T) {
	gs := newGatedServer(t, time.Hour)
	a := gs.dial(t)
	a.send(t, "/block")
	ga := gs.admitted(t)
	gs.waitEntered(t)
	waitHolding(t, ga, true)
	gs.release <- struct{}{}
	a.answer(t)
	waitHolding(t, ga, false) // a is open and idle

	a.send(t, "/block") // a later request on a kept connection
	gs.waitEntered(t)
	waitHolding(t, ga, false)
	b := gs.dial(t)
	b.send(t, "/")
	gb := gs.admitted(t)
	b.answer(t) // admitted while a's request runs
	// Once b gives its unit back the accept loop takes the gate's unit, not
	// a turn: the turn a's answer earns stays banked.
	waitHolding(t, gb, false)
	gs.release <- struct{}{}
	a.answer(t)
	turns := func() int {
		gs.ln.gate.mu.Lock()
		defer gs.ln.gate.mu.Unlock()
		return gs.ln.gate.turns
	}
	testproc.Poll(10*time.Second, func() bool { return turns() == 1 })
	if turns := turns(); turns != 1 {
		t.Errorf("turns %d after an answer on a kept connection, want 1", turns)
	}
}

// A client that sends its headers in pieces gives its unit back until the
// headers are whole; so does one whose handler waits for its body.
func TestGateSlowSenderAndBody(t *testing.T) {
	gs := newGatedServer(t, time.Hour)
	a := gs.dial(t)
	if _, err := fmt.Fprint(a.c, "GET /block HTTP/1.1\r\n"); err != nil {
		t.Fatal(err)
	}
	ga := gs.admitted(t)
	waitHolding(t, ga, false)
	if _, err := fmt.Fprint(a.c, "Host: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	gs.waitEntered(t)
	waitHolding(t, ga, true)
	gs.release <- struct{}{}
	a.answer(t)
	waitHolding(t, ga, false)

	b := gs.dial(t)
	if _, err := fmt.Fprint(b.c, "POST /body HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	gb := gs.admitted(t)
	<-gs.bodyIn
	waitHolding(t, gb, false)
	if _, err := fmt.Fprint(b.c, "data"); err != nil {
		t.Fatal(err)
	}
	gs.waitEntered(t)
	waitHolding(t, gb, true)
	gs.release <- struct{}{}
	b.answer(t)
}

// A client that connects and sends nothing gives its unit back after the
// grace.
func TestGateSilentClient(t *testing.T) {
	gs := newGatedServer(t, 10*time.Millisecond)
	c := gs.dial(t)
	waitHolding(t, gs.admitted(t), false)
	c.send(t, "/")
	c.answer(t)
}
