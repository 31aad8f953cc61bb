package listen

import (
	"context"
	"net"
	"net/http"
	"sync"
	"time"
)

// phase is what an admitted connection is doing, as far as its gate cares.
type phase int

const (
	phaseFresh   phase = iota // admitted, first request not read yet: holds
	phaseWaiting              // new, but its client is slow or silent: holds nothing
	phaseFirst                // its first request was read and is being answered: holds
	phaseBody                 // its first request's handler waits for the body: holds nothing
	phaseKept                 // its first request was answered: holds nothing, ever again
	phaseClosed
)

// holds reports whether a connection in phase p holds a unit of work. Built
// with the flipbench_conngate tag, every open connection holds one: the old
// gate, kept to prove that the regression gate catches it.
func (p phase) holds() bool {
	if countsConnections {
		return p != phaseClosed
	}
	return p == phaseFresh || p == phaseFirst
}

// conn is a connection admitted by a Gate; it takes and gives back its unit
// of work as its phase changes.
type conn struct {
	net.Conn
	gate *Gate

	mu      sync.Mutex
	phase   phase
	holding bool
	reads   int // Reads while fresh
	grace   *time.Timer
}

// admit wraps c, which holds the unit of work its caller acquired.
func admit(c net.Conn, g *Gate) *conn {
	gc := &conn{Conn: c, gate: g, phase: phaseFresh, holding: true}
	gc.mu.Lock()
	gc.grace = time.AfterFunc(g.grace, func() { gc.moveFrom(phaseFresh, phaseWaiting) })
	gc.mu.Unlock()
	return gc
}

// Read notes a slow sender: a second read before the first request is
// whole means its bytes did not come together, so the client, not the
// worker, is what the request waits for.
func (c *conn) Read(b []byte) (int, error) {
	c.mu.Lock()
	if c.phase == phaseFresh {
		c.reads++
		if c.reads > 1 {
			c.moveLocked(phaseWaiting)
		}
	}
	c.mu.Unlock()
	return c.Conn.Read(b)
}

// Close closes the connection and gives back what it holds.
func (c *conn) Close() error {
	err := c.Conn.Close()
	c.move(phaseClosed)
	return err
}

func (c *conn) move(p phase) {
	c.mu.Lock()
	c.moveLocked(p)
	c.mu.Unlock()
}

// moveFrom moves to p only from phase from.
func (c *conn) moveFrom(from, p phase) {
	c.mu.Lock()
	if c.phase == from {
		c.moveLocked(p)
	}
	c.mu.Unlock()
}

// answered moves to kept after an answer; an answer on a connection that
// was kept already earns its gate a turn.
func (c *conn) answered() {
	c.mu.Lock()
	wasKept := c.phase == phaseKept
	c.moveLocked(phaseKept)
	c.mu.Unlock()
	if wasKept {
		c.gate.turn()
	}
}

func (c *conn) moveLocked(p phase) {
	if c.phase == phaseClosed {
		return
	}
	if c.phase == phaseFresh && c.grace != nil {
		c.grace.Stop()
	}
	c.phase = p
	switch want := p.holds(); {
	case want && !c.holding:
		c.gate.hold()
	case !want && c.holding:
		c.gate.Release()
	}
	c.holding = p.holds()
}

// ConnState is an http.Server ConnState hook that tells each admitted
// connection's gate what the connection does: its first request, once read,
// is new work until it is answered; after that the connection is the
// worker's own, holds nothing, and earns a turn per answer. Connections that
// no gate admitted are left alone.
func ConnState(c net.Conn, s http.ConnState) {
	gc, ok := c.(*conn)
	if !ok {
		return
	}
	switch s {
	case http.StateActive:
		gc.moveFrom(phaseFresh, phaseFirst)
		gc.moveFrom(phaseWaiting, phaseFirst)
	case http.StateIdle:
		gc.answered()
	case http.StateHijacked, http.StateClosed:
		gc.move(phaseClosed)
	}
}

type connKey struct{}

// ConnContext is an http.Server ConnContext hook that makes a request's
// connection known to AwaitBody.
func ConnContext(ctx context.Context, c net.Conn) context.Context {
	if gc, ok := c.(*conn); ok {
		return context.WithValue(ctx, connKey{}, gc)
	}
	return ctx
}

// AwaitBody marks the request of ctx as waiting for its body: its
// connection holds no work until done is called, so a stalled upload does
// not keep its worker from admitting others.
func AwaitBody(ctx context.Context) (done func()) {
	gc, ok := ctx.Value(connKey{}).(*conn)
	if !ok {
		return func() {}
	}
	gc.moveFrom(phaseFirst, phaseBody)
	return func() { gc.moveFrom(phaseBody, phaseFirst) }
}
