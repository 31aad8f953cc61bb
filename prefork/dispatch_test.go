package prefork

import (
	"errors"
	"io"
	"net"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/flipbench/flipbench/internal/testproc"
)

// socketPair is a hand-off socket pair: the master's end and the worker's.
func socketPair(t *testing.T) (master, worker *net.UnixConn) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	conn := func(fd int) *net.UnixConn {
		f := os.NewFile(uintptr(fd), "pair")
		defer f.Close()
		c, err := net.FileConn(f)
		if err != nil {
			t.Fatal(err)
		}
		return c.(*net.UnixConn)
	}
	master, worker = conn(fds[0]), conn(fds[1])
	t.Cleanup(func() { master.Close(); worker.Close() })
	return master, worker
}

// packet is one hand-off message as a fake peer reads it.
type packet struct {
	text  string
	conns []net.Conn
}

// readPacket reads one packet from uc, failing the test after 10 s.
func readPacket(t *testing.T, uc *net.UnixConn) packet {
	t.Helper()
	uc.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf, oob := make([]byte, maxMsg), make([]byte, unix.CmsgSpace(16))
	n, oobn, _, _, err := uc.ReadMsgUnix(buf, oob)
	if err != nil {
		t.Fatalf("read hand-off packet: %v", err)
	}
	return packet{text: string(buf[:n]), conns: receiveConns(oob[:oobn])}
}

func send(t *testing.T, uc *net.UnixConn, msg string) {
	t.Helper()
	if _, err := uc.Write([]byte(msg)); err != nil {
		t.Fatalf("send %q: %v", msg, err)
	}
}

// newTestDispatcher runs a dispatcher on a fresh loopback socket, logging
// to the returned buffer.
func newTestDispatcher(t *testing.T) (*dispatcher, string, *logBuf) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	lb := &logBuf{}
	d := newDispatcher(ln, slogTo(lb))
	t.Cleanup(d.close)
	return d, ln.Addr().String(), lb
}

// ask dials addr and returns what the server writes before closing.
func ask(addr string) (string, error) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	b, err := io.ReadAll(c)
	return string(b), err
}

// serveName answers every connection of ln with name, until ln closes.
func serveName(ln net.Listener, name string) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		io.WriteString(c, name)
		c.Close()
	}
}

// TestHandoffGoesToAnother checks that a connection a worker does not take
// (it refuses it, it dies before taking it, or the send to it fails) is
// handed to another worker, and answered there.
func TestHandoffGoesToAnother(t *testing.T) {
	for _, tc := range []struct {
		name string
		// letGo makes fake worker a let go of the connection; it returns
		// the packet that carried it, if one came.
		letGo   func(t *testing.T, a *net.UnixConn) packet
		before  bool   // letGo runs before the client dials
		wantLog string // in the master's log: how it lost worker a
	}{
		{name: "refused", letGo: func(t *testing.T, a *net.UnixConn) packet {
			p := readPacket(t, a)
			closeConns(p.conns)
			send(t, a, msgStop)
			_, id, _ := strings.Cut(p.text, " ")
			send(t, a, msgRefused+" "+id)
			return p
		}},
		{name: "worker died", letGo: func(t *testing.T, a *net.UnixConn) packet {
			p := readPacket(t, a)
			closeConns(p.conns)
			a.Close()
			return p
		}},
		{name: "send failed", before: true, wantLog: "hand-off to worker pid 101: write", letGo: func(t *testing.T, a *net.UnixConn) packet {
			// The worker can no longer receive, but its socket is open.
			rc, err := a.SyscallConn()
			if err != nil {
				t.Fatal(err)
			}
			rc.Control(func(fd uintptr) { err = unix.Shutdown(int(fd), unix.SHUT_RD) })
			if err != nil {
				t.Fatal(err)
			}
			return packet{}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, addr, lb := newTestDispatcher(t)
			ma, a := socketPair(t)
			d.attach(1, 101, ma)
			send(t, a, msgFree)
			// Worker a's free must be counted before b attaches, or the
			// master may deal the connection to b first.
			testproc.WaitFor(t, 5*time.Second, "the master to count a's free", func() bool {
				return d.stats().credits[101] == 1
			})
			if tc.before {
				tc.letGo(t, a)
			}
			answer := make(chan string, 1)
			go func() {
				s, err := ask(addr)
				if err != nil {
					s = err.Error()
				}
				answer <- s
			}()
			if !tc.before {
				p := tc.letGo(t, a)
				if !strings.HasPrefix(p.text, msgConn+" ") || len(p.conns) != 1 {
					t.Fatalf("worker a got %q with %d descriptors, want a connection", p.text, len(p.conns))
				}
			}
			mb, b := socketPair(t)
			hb := newHandoffListener(b, nil, 1, nil)
			defer hb.Close()
			d.attach(2, 102, mb)
			go serveName(hb, "b")
			if got := <-answer; got != "b" {
				t.Fatalf("client got %q, want worker b's answer", got)
			}
			testproc.WaitFor(t, 5*time.Second, "the master to hold nothing", func() bool {
				s := d.stats()
				return s.waiting == 0 && s.inflight[102] == 0
			})
			if !strings.Contains(lb.String(), tc.wantLog) {
				t.Errorf("master log lacks %q:\n%s", tc.wantLog, lb)
			}
		})
	}
}

// TestHandoffWaitsForFreeSlot checks that the master hands a worker of one
// slot one connection at a time: the next waits in the master until the
// first is closed.
func TestHandoffWaitsForFreeSlot(t *testing.T) {
	d, addr, _ := newTestDispatcher(t)
	mw, w := socketPair(t)
	l := newHandoffListener(w, nil, 1, nil)
	defer l.Close()
	d.attach(1, 101, mw)

	answers := make(chan string, 2)
	for range 2 {
		go func() {
			s, err := ask(addr)
			if err != nil {
				s = err.Error()
			}
			answers <- s
		}()
	}
	first, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	testproc.WaitFor(t, 5*time.Second, "the second connection waiting in the master", func() bool {
		s := d.stats()
		return s.waiting == 1 && s.inflight[101] == 0 && s.credits[101] == 0
	})
	io.WriteString(first, "1")
	first.Close() // frees the slot: the master sends the second
	second, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(second, "2")
	second.Close()
	got := []string{<-answers, <-answers}
	slices.Sort(got)
	if !slices.Equal(got, []string{"1", "2"}) {
		t.Fatalf("answers %q, want 1 and 2", got)
	}
}

// tcpPair is a connected pair of loopback TCP connections.
func tcpPair(t *testing.T) (client, server net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server, err = ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close(); server.Close() })
	return client, server
}

// handConn sends c to the worker as the master does.
func handConn(t *testing.T, m *net.UnixConn, id string, c net.Conn) {
	t.Helper()
	if err := sendMsg(m, outMsg{text: msgConn + " " + id, conn: c}); err != nil {
		t.Fatal(err)
	}
}

// TestHandoffListenerSlots checks a worker's side of the protocol: one
// "free" per job slot at the first Accept and one per closed connection
// while serving, "took" for each accepted connection, and nothing asked for
// once draining; the drain ends at "end".
func TestHandoffListenerSlots(t *testing.T) {
	m, w := socketPair(t)
	l := newHandoffListener(w, nil, 2, nil)
	accepted := make(chan net.Conn)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				close(accepted)
				return
			}
			accepted <- c
		}
	}()
	var got []string
	read := func() string {
		p := readPacket(t, m)
		got = append(got, p.text)
		return p.text
	}
	read()
	read()
	_, c1 := tcpPair(t)
	handConn(t, m, "1", c1)
	(<-accepted).Close()
	read() // took 1
	read() // free
	l.Drain()
	read() // drain
	_, c2 := tcpPair(t)
	handConn(t, m, "2", c2)
	(<-accepted).Close() // no "free": a draining worker asks for nothing
	send(t, m, msgEnd)
	select {
	case <-l.Stopped():
	case <-time.After(10 * time.Second):
		t.Fatal("listener not stopped after the end")
	}
	l.Close()
	if _, ok := <-accepted; ok {
		t.Fatal("Accept returned a connection after the end")
	}
	for {
		m.SetReadDeadline(time.Now().Add(10 * time.Second))
		buf := make([]byte, maxMsg)
		n, err := m.Read(buf)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, string(buf[:n]))
	}
	want := []string{"free", "free", "took 1", "free", "drain", "took 2"}
	if !slices.Equal(got, want) {
		t.Fatalf("worker said %q, want %q", got, want)
	}
}

// TestHandoffListenerStopRefuses checks that a stopped (retiring) worker
// gives back what it received but did not accept, and refuses what comes
// after.
func TestHandoffListenerStopRefuses(t *testing.T) {
	m, w := socketPair(t)
	l := newHandoffListener(w, nil, 1, nil)
	_, c1 := tcpPair(t)
	handConn(t, m, "1", c1)
	// Wait until the listener holds it: the master's packet was read.
	testproc.WaitFor(t, 5*time.Second, "the connection received", func() bool {
		l.mu.Lock()
		defer l.mu.Unlock()
		return len(l.pending) == 1
	})
	l.Stop()
	_, c2 := tcpPair(t)
	handConn(t, m, "2", c2)
	var got []string
	for range 3 {
		got = append(got, readPacket(t, m).text)
	}
	want := []string{"stop", "refused 1", "refused 2"}
	if !slices.Equal(got, want) {
		t.Fatalf("worker said %q, want %q", got, want)
	}
	// Once stopped, Accept returns nothing more: it waits for Close.
	errc := make(chan error, 1)
	go func() {
		c, err := l.Accept()
		if c != nil {
			err = errors.New("Accept returned a connection after Stop")
		}
		errc <- err
	}()
	<-l.Stopped()
	l.Close()
	if err := <-errc; !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Accept after Stop: %v", err)
	}
}

// TestRRKillWhileWaitingInMaster kills a worker (SIGKILL) while connections
// wait in the master: the victim loses only the request it was running, and
// the others are answered by the other worker and the victim's replacement.
func TestRRKillWhileWaitingInMaster(t *testing.T) {
	c := startCluster(t, BalanceRR, 2)
	victim := c.waitReady(t, 2)[0]
	const n = 6
	type result struct {
		pid int
		err error
	}
	results := make(chan result, n)
	for range n {
		go func() {
			pid, err := get(t.Context(), c.addr, "?sleep=1000")
			results <- result{pid, err}
		}()
	}
	// Capacity 1 per worker: two requests run, the rest wait in the master
	// (a slow machine may have finished the first two already).
	testproc.WaitFor(t, 10*time.Second, "connections waiting in the master", func() bool {
		return c.m.disp.stats().waiting >= n-4
	})
	if err := syscall.Kill(victim, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	failed := 0
	byPID := map[int]int{}
	for range n {
		r := <-results
		switch {
		case r.err != nil:
			failed++
			t.Logf("request failed: %v", r.err)
		case r.pid == victim:
			t.Errorf("the killed worker %d answered", victim)
		default:
			byPID[r.pid]++
		}
	}
	t.Logf("answers per worker pid %v, %d failed; workers ready %v", byPID, failed, c.readyPIDs(t))
	if failed > 1 {
		t.Errorf("%d requests failed, want at most the victim's one running job", failed)
	}
}
