package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/flipbench/flipbench/listen"
)

// drainer is a listener that can take the connections still queued in the
// kernel before it stops accepting (listen.Listener is one). Closing a
// listener instead resets those connections.
type drainer interface {
	Drain()
	Stopped() <-chan struct{}
}

// freshWait bounds how long a stop waits for an accepted connection to send its
// request: net/http's own Shutdown gives up on such connections after 5 s too.
const freshWait = 5 * time.Second

// ServeGracefully serves hs on ln until ctx is done, then stops without
// dropping a connection it took: it drains ln if ln can drain (else closes
// it), lets every accepted connection deliver its request, and only then
// calls hs.Shutdown, bounded by timeout (0 waits for every accepted request).
// The order matters: net/http's Shutdown closes unanswered a connection
// whose request it reads after the shutdown began. It returns nil after a
// clean stop. It sets hs.ConnState and hs.ConnContext, calling hooks already
// there, so that a gated listener (listen.Gated) counts the work of each
// connection it admitted.
func ServeGracefully(ctx context.Context, hs *http.Server, ln net.Listener, timeout time.Duration) error {
	fresh := newFreshConns(hs.ConnState)
	hs.ConnState = fresh.track
	if next := hs.ConnContext; next != nil {
		hs.ConnContext = func(ctx context.Context, c net.Conn) context.Context {
			return listen.ConnContext(next(ctx, c), c)
		}
	} else {
		hs.ConnContext = listen.ConnContext
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()

	select {
	case err := <-errc:
		return fmt.Errorf("serve %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	var serveErr error
	served := false
	if d, ok := ln.(drainer); ok {
		d.Drain()
		select {
		case <-d.Stopped():
		case serveErr = <-errc: // the listener failed while draining
			served = true
		}
	}
	ln.Close()
	fresh.wait(freshWait)
	sctx := context.Background()
	if timeout > 0 {
		var cancel context.CancelFunc
		sctx, cancel = context.WithTimeout(sctx, timeout)
		defer cancel()
	}
	// Shutdown closes the listeners Serve still tracks: ln, closed above, may
	// be one of them when Serve has not yet seen its Accept fail.
	if err := hs.Shutdown(sctx); err != nil && !errors.Is(err, net.ErrClosed) {
		hs.Close()
		return fmt.Errorf("graceful shutdown: %w", err)
	}
	if !served {
		serveErr = <-errc
	}
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) && !errors.Is(serveErr, net.ErrClosed) {
		return fmt.Errorf("serve %s: %w", ln.Addr(), serveErr)
	}
	return nil
}

// freshConns is the set of accepted connections that have not yet delivered a
// request.
type freshConns struct {
	next  func(net.Conn, http.ConnState)
	mu    sync.Mutex
	conns map[net.Conn]struct{}
}

func newFreshConns(next func(net.Conn, http.ConnState)) *freshConns {
	return &freshConns{next: next, conns: map[net.Conn]struct{}{}}
}

// track is an http.Server ConnState hook.
func (f *freshConns) track(c net.Conn, state http.ConnState) {
	f.mu.Lock()
	if state == http.StateNew {
		f.conns[c] = struct{}{}
	} else {
		delete(f.conns, c)
	}
	f.mu.Unlock()
	listen.ConnState(c, state)
	if f.next != nil {
		f.next(c, state)
	}
}

// wait returns once no connection is fresh, or after limit.
func (f *freshConns) wait(limit time.Duration) {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		f.mu.Lock()
		n := len(f.conns)
		f.mu.Unlock()
		if n == 0 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}
