package prefork

import (
	"context"
	"fmt"
	"os"
)

// Balance is how connections are spread over the workers.
type Balance string

// The balances. Each one decides two things: which listening sockets the
// master makes and hands to which worker (listen), and whether a worker
// accepts only while its App has a free job slot (gated).
const (
	// BalanceReusePort gives every worker its own SO_REUSEPORT socket on the
	// address; the kernel picks a socket per new connection by hash.
	BalanceReusePort Balance = "reuseport"
	// BalanceShared gives every worker the same socket; a worker accepts only
	// while it has a free job slot, so idle workers take new connections.
	BalanceShared Balance = "shared"
)

// balances lists every Balance, in the order errors name them.
func balances() []Balance { return []Balance{BalanceReusePort, BalanceShared} }

// ParseBalance parses a balance's name: "reuseport" or "shared".
func ParseBalance(s string) (Balance, error) {
	for _, b := range balances() {
		if string(b) == s {
			return b, nil
		}
	}
	return "", fmt.Errorf("prefork: unknown balance %q (want one of %q)", s, balances())
}

// gated reports whether a worker accepts only while its App has a free job
// slot.
func (b Balance) gated() bool { return b == BalanceShared }

// listen makes the sockets for workers workers on addr.
func (b Balance) listen(ctx context.Context, addr string, workers int) (*sockets, error) {
	switch b {
	case BalanceReusePort:
		files, bound, err := listenReusePort(ctx, addr, workers)
		if err != nil {
			return nil, err
		}
		return &sockets{files: files, addr: bound}, nil
	case BalanceShared:
		f, bound, err := listenShared(ctx, addr)
		if err != nil {
			return nil, err
		}
		return &sockets{files: []*os.File{f}, addr: bound}, nil
	}
	_, err := ParseBalance(string(b))
	return nil, err
}
