package prefork

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// listenReusePort binds n TCP sockets to addr with SO_REUSEPORT and returns
// them as files (the master never accepts on them). If addr has port 0, the
// first socket picks the port and the others join it.
func listenReusePort(ctx context.Context, addr string, n int) ([]*os.File, net.Addr, error) {
	if err := probePort(ctx, addr); err != nil {
		return nil, nil, err
	}
	lc := reusePortConfig()
	var (
		files []*os.File
		bound net.Addr
	)
	for i := range n {
		a := addr
		if i > 0 {
			a = bound.String()
		}
		f, la, err := listenFile(ctx, lc, a)
		if err != nil {
			closeFiles(files)
			return nil, nil, err
		}
		if i == 0 {
			bound = la
		}
		files = append(files, f)
	}
	return files, bound, nil
}

// probePort checks that addr's port is free by binding it once without
// SO_REUSEPORT. Linux lets a second SO_REUSEPORT group of the same user bind
// a port that a first one holds, so without the probe a leftover cluster
// would silently share the port with this one instead of failing.
func probePort(ctx context.Context, addr string) error {
	if _, port, err := net.SplitHostPort(addr); err == nil && (port == "" || port == "0") {
		return nil // the kernel picks a free port
	}
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", addr)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return fmt.Errorf("port of %s is taken (another server, or a cluster still running?): %w", addr, err)
		}
		return err
	}
	if err := ln.Close(); err != nil {
		return fmt.Errorf("probe %s: %w", addr, err)
	}
	return nil
}

// listenShared binds one plain TCP socket to addr and returns it as a file.
func listenShared(ctx context.Context, addr string) (*os.File, net.Addr, error) {
	return listenFile(ctx, net.ListenConfig{}, addr)
}

// listenFile listens on addr and returns a duplicate of the socket as a file
// for exec.Cmd.ExtraFiles. It does not use TCPListener.File: that file's Fd
// method, which exec.Cmd.Start calls, clears O_NONBLOCK on the open file
// description that every process holding the socket shares. A worker then
// accepting meanwhile would block in the kernel where no deadline can wake
// it, and a stop would hang until the grace period's SIGKILL. A descriptor
// given to os.NewFile keeps its mode.
func listenFile(ctx context.Context, lc net.ListenConfig, addr string) (*os.File, net.Addr, error) {
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, nil, err
	}
	defer ln.Close() // the duplicate keeps the socket open
	tl, ok := ln.(*net.TCPListener)
	if !ok {
		return nil, nil, fmt.Errorf("listen %s: not a TCP listener", addr)
	}
	rc, err := tl.SyscallConn()
	if err != nil {
		return nil, nil, fmt.Errorf("listen %s: %w", addr, err)
	}
	var (
		dup  int
		derr error
	)
	if err := rc.Control(func(fd uintptr) {
		dup, derr = unix.FcntlInt(fd, unix.F_DUPFD_CLOEXEC, 0)
	}); err != nil {
		return nil, nil, fmt.Errorf("listen %s: %w", addr, err)
	}
	if derr != nil {
		return nil, nil, fmt.Errorf("listen %s: duplicate socket: %w", addr, derr)
	}
	return os.NewFile(uintptr(dup), "prefork-listener:"+ln.Addr().String()), ln.Addr(), nil
}

// sockets are the listening sockets a master holds for its workers.
type sockets struct {
	files []*os.File   // one per slot, or one for every slot
	ln    net.Listener // the master's own socket, when it hands connections over
	addr  net.Addr
}

// forSlot is the socket the worker of slot serves.
func (s *sockets) forSlot(slot int) *os.File {
	if len(s.files) == 0 {
		return nil // socket-less: the worker's fd 3 is closed
	}
	if len(s.files) == 1 {
		return s.files[0]
	}
	return s.files[slot]
}

// grow adds SO_REUSEPORT sockets to the group until there are n, for new
// slots; slots whose socket shrink closed get a new one.
func (s *sockets) grow(ctx context.Context, n int) error {
	for i := range n {
		if i < len(s.files) && s.files[i] != nil {
			continue
		}
		f, _, err := listenFile(ctx, reusePortConfig(), s.addr.String())
		if err != nil {
			return fmt.Errorf("socket for worker %d: %w", i, err)
		}
		if i < len(s.files) {
			s.files[i] = f
		} else {
			s.files = append(s.files, f)
		}
	}
	return nil
}

// shrink closes the sockets of slots n and above when each slot has its
// own (the kernel moves their queues to the others only with
// net.ipv4.tcp_migrate_req=1; see Master.SetWorkers).
func (s *sockets) shrink(n int) {
	if len(s.files) <= 1 {
		return
	}
	for i := n; i < len(s.files); i++ {
		if s.files[i] != nil {
			s.files[i].Close()
			s.files[i] = nil
		}
	}
}

func (s *sockets) close() {
	closeFiles(s.files)
	if s.ln != nil {
		s.ln.Close()
	}
}

func closeFiles(files []*os.File) {
	for _, f := range files {
		f.Close()
	}
}

// reusePortConfig listens with SO_REUSEPORT set.
func reusePortConfig() net.ListenConfig {
	return net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		if err := c.Control(func(fd uintptr) {
			serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
		}); err != nil {
			return err
		}
		if serr != nil {
			return fmt.Errorf("set SO_REUSEPORT: %w", serr)
		}
		return nil
	}}
}

// migrateReq reports whether the kernel moves a closed SO_REUSEPORT
// socket's queued connections to the others in its group.
func migrateReq() bool {
	b, err := os.ReadFile("/proc/sys/net/ipv4/tcp_migrate_req")
	return err == nil && strings.TrimSpace(string(b)) == "1"
}
