package prefork

import (
	"context"
	"fmt"
	"net"
	"os"
)

// Balance is how connections reach the workers.
type Balance string

// The balances. Each one decides which sockets the master makes, what it
// hands to which worker (listen), and whether a worker accepts only while its
// App has room for new work (gated; listen.Gate).
const (
	// BalanceReusePort gives every worker its own SO_REUSEPORT socket on the
	// address; the kernel picks a socket per new connection by hash. A
	// worker accepts only while its gate has room, so what waits stays
	// in its socket's kernel queue, which the master holds.
	BalanceReusePort Balance = "reuseport"
	// BalanceShared gives every worker the same socket; a worker accepts only
	// while its gate has room, so idle workers take new connections.
	BalanceShared Balance = "shared"
	// BalanceRR is Node's SCHED_RR: the master accepts every connection and
	// hands it over a Unix socket to a worker whose gate has room,
	// round-robin; connections that wait, wait in the master.
	BalanceRR Balance = "rr"
	// BalanceNone is Node's SCHED_NONE: every worker accepts from one shared
	// socket whenever it can, with no gate. It keeps Node's weaknesses and is
	// the reference for what goes wrong.
	BalanceNone Balance = "none"
)

// balances lists every Balance, in the order errors name them.
func balances() []Balance { return []Balance{BalanceReusePort, BalanceShared, BalanceRR, BalanceNone} }

// ParseBalance parses a balance's name: "reuseport", "shared", "rr" or "none".
func ParseBalance(s string) (Balance, error) {
	for _, b := range balances() {
		if string(b) == s {
			return b, nil
		}
	}
	return "", fmt.Errorf("prefork: unknown balance %q (want one of %q)", s, balances())
}

// gated reports whether a worker's listener accepts only while its App has
// room for new work. Under BalanceRR the master deals against the workers'
// gates instead.
func (b Balance) gated() bool { return b == BalanceReusePort || b == BalanceShared }

// handsOff reports whether the master accepts and hands connections over.
func (b Balance) handsOff() bool { return b == BalanceRR }

// listen makes the sockets for workers workers on addr.
func (b Balance) listen(ctx context.Context, addr string, workers int) (*sockets, error) {
	switch b {
	case BalanceReusePort:
		files, bound, err := listenReusePort(ctx, addr, workers)
		if err != nil {
			return nil, err
		}
		return &sockets{files: files, addr: bound}, nil
	case BalanceShared, BalanceNone:
		f, bound, err := listenShared(ctx, addr)
		if err != nil {
			return nil, err
		}
		return &sockets{files: []*os.File{f}, addr: bound}, nil
	case BalanceRR:
		ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", addr)
		if err != nil {
			return nil, err
		}
		return &sockets{ln: ln, addr: ln.Addr()}, nil
	}
	_, err := ParseBalance(string(b))
	return nil, err
}
