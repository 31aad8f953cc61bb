package listen

import (
	"net"
	"sync/atomic"
	"testing"
	"time"
)

// queue listens on 127.0.0.1 and opens n connections that wait in the
// kernel's accept queue; everything is closed at cleanup.
func queue(t *testing.T, n int) net.Listener {
	t.Helper()
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { inner.Close() })
	for range n {
		dial(t, inner.Addr().String())
	}
	return inner
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// acceptAll accepts on l until it fails and sends every connection on the
// returned channel, which is closed when Accept fails.
func acceptAll(l net.Listener, size int) <-chan net.Conn {
	got := make(chan net.Conn, size)
	go func() {
		defer close(got)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			got <- c
		}
	}()
	return got
}

func waitStopped(t *testing.T, l *Listener) {
	t.Helper()
	select {
	case <-l.Stopped():
	case <-time.After(10 * time.Second):
		t.Fatal("Stopped not closed within 10s")
	}
}

// A new connection holds its unit of work: the gate is full until it goes.
func TestGateAcceptsOnlyWithFreeSlot(t *testing.T) {
	ln := New(queue(t, 2), Gated(1))
	ln.gate.grace = time.Hour
	defer ln.Close()
	first, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	if wouldAdmit(ln.gate) {
		t.Fatal("the gate admits a second connection while the first is new")
	}
	first.Close()
	if n := ln.gate.Held(); n != 0 {
		t.Fatalf("held %d after the connection closed, want 0", n)
	}
	c, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
}

func TestOnFirstAccept(t *testing.T) {
	var calls atomic.Int32
	ln := New(queue(t, 2), OnFirstAccept(func() { calls.Add(1) }))
	defer ln.Close()
	for range 2 {
		c, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		c.Close()
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("OnFirstAccept called %d times, want 1", n)
	}
}

// Drain takes every queued connection even though the gate is full: they
// were queued before the stop.
func TestDrainTakesQueuedConnections(t *testing.T) {
	const n = 5
	ln := New(queue(t, n), Gated(1))
	defer ln.Close()
	hold, err := ln.Accept() // takes the only slot
	if err != nil {
		t.Fatal(err)
	}
	defer hold.Close()
	got := acceptAll(ln, n)
	time.Sleep(50 * time.Millisecond) // let the loop block on the gate
	ln.Drain()
	waitStopped(t, ln)
	if k := len(got); k != n-1 {
		t.Fatalf("drain accepted %d queued connections, want %d", k, n-1)
	}
	for range n - 1 {
		(<-got).Close()
	}
}

// Stop accepts nothing more but leaves the socket open: the queued
// connections stay for whoever else accepts on it.
func TestStopKeepsQueue(t *testing.T) {
	const n = 3
	inner := queue(t, n)
	ln := New(inner, Gated(1))
	hold, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer hold.Close()
	got := acceptAll(ln, n)
	ln.Stop()
	waitStopped(t, ln)
	if k := len(got); k != 0 {
		t.Fatalf("accepted %d connections after Stop, want 0", k)
	}
	// The socket is still open: the rest of the queue is there for another
	// process (here, the inner listener).
	if err := inner.(*net.TCPListener).SetDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatal(err)
	}
	for i := range n - 1 {
		c, err := inner.Accept()
		if err != nil {
			t.Fatalf("queued connection %d after Stop: %v", i, err)
		}
		c.Close()
	}
	ln.Close()
	if _, ok := <-got; ok {
		t.Error("Accept returned a connection after Close")
	}
}

// A drain ends even while new connections keep arriving.
func TestDrainEndsAgainstSteadyStream(t *testing.T) {
	inner := queue(t, 0)
	ln := New(inner)
	defer ln.Close()
	got := acceptAll(ln, 1)
	go func() {
		for range got {
		}
	}()
	quit := make(chan struct{})
	defer close(quit)
	go func() {
		for {
			select {
			case <-quit:
				return
			case <-time.After(time.Millisecond):
			}
			if c, err := net.Dial("tcp", inner.Addr().String()); err == nil {
				c.Close()
			}
		}
	}()
	ln.Drain()
	waitStopped(t, ln)
}

// Close wakes an Accept blocked on the gate, and Stopped closes with it.
func TestCloseWakesGatedAccept(t *testing.T) {
	ln := New(queue(t, 2), Gated(1))
	ln.gate.grace = time.Hour
	hold, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer hold.Close()
	got := acceptAll(ln, 1)
	ln.Close()
	select {
	case _, ok := <-got:
		if ok {
			t.Error("Accept returned a connection after Close")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Accept still blocked 5s after Close")
	}
	waitStopped(t, ln)
}
