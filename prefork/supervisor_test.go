package prefork

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/flipbench/flipbench/internal/testproc"
)

// fakeEnv is an in-memory world for the supervisor: processes that are
// records, a clock that moves only when the test says, and memory the test
// sets. Timers fire in the test's goroutine, on advance.
type fakeEnv struct {
	mu      sync.Mutex
	now     time.Time
	timers  []fakeTimer
	nextPID int
	procs   []*fakeProc
	rss     map[int]uint64
}

type fakeTimer struct {
	at time.Time
	f  func()
}

// fakeProc is a worker process that does what its signals say at once:
// SIGKILL, SIGTERM and SIGUSR1 end it, unless it is stuck (then only
// SIGKILL does).
type fakeProc struct {
	*child
	mu      sync.Mutex
	signals []syscall.Signal
	stuck   bool
	once    sync.Once
}

func newFakeEnv() *fakeEnv {
	return &fakeEnv{now: time.Unix(1_000_000, 0), nextPID: 100, rss: map[int]uint64{}}
}

func (f *fakeEnv) env() env {
	return env{
		start: f.start,
		now:   f.Now,
		after: f.after,
		rss: func(pid int) uint64 {
			f.mu.Lock()
			defer f.mu.Unlock()
			return f.rss[pid]
		},
		intN: func(n int) int { return n - 1 }, // the most jitter: the test knows the limit
	}
}

func (f *fakeEnv) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fakeEnv) after(d time.Duration, fn func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.timers = append(f.timers, fakeTimer{at: f.now.Add(d), f: fn})
}

// advance moves the clock by d and fires, in order, the timers due; each
// fire returns once the supervisor has taken its event.
func (f *fakeEnv) advance(d time.Duration) {
	f.mu.Lock()
	f.now = f.now.Add(d)
	slices.SortStableFunc(f.timers, func(a, b fakeTimer) int { return a.at.Compare(b.at) })
	var due []fakeTimer
	for len(f.timers) > 0 && !f.timers[0].at.After(f.now) {
		due = append(due, f.timers[0])
		f.timers = f.timers[1:]
	}
	f.mu.Unlock()
	for _, tm := range due {
		tm.f()
	}
}

func (f *fakeEnv) start(slot int, _ int64) (*child, error) {
	fp := &fakeProc{}
	f.mu.Lock()
	f.nextPID++
	pid := f.nextPID
	f.mu.Unlock()
	fp.child = newChild(slot, pid, f.Now, fp.signal)
	f.mu.Lock()
	f.procs = append(f.procs, fp)
	f.mu.Unlock()
	return fp.child, nil
}

func (fp *fakeProc) signal(sig syscall.Signal) error {
	fp.mu.Lock()
	fp.signals = append(fp.signals, sig)
	stuck := fp.stuck
	fp.mu.Unlock()
	if sig == syscall.SIGKILL || !stuck {
		fp.exit()
	}
	return nil
}

func (fp *fakeProc) exit() { fp.once.Do(func() { close(fp.exited) }) }

func (fp *fakeProc) got() []syscall.Signal {
	fp.mu.Lock()
	defer fp.mu.Unlock()
	return slices.Clone(fp.signals)
}

// proc is the i-th process started.
func (f *fakeEnv) proc(t *testing.T, i int) *fakeProc {
	t.Helper()
	var fp *fakeProc
	testproc.WaitFor(t, 5*time.Second, "process to start", func() bool {
		f.mu.Lock()
		defer f.mu.Unlock()
		if i < len(f.procs) {
			fp = f.procs[i]
		}
		return fp != nil
	})
	return fp
}

func (f *fakeEnv) started() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.procs)
}

// fakeMaster is a socket-less Master of n workers for the fake env.
func fakeMaster(n int, opts ...Option) *Master {
	m := &Master{
		workers: n, balance: BalanceShared, socketless: true, grace: time.Hour,
		log: slog.New(slog.NewTextHandler(io.Discard, nil)), maxStartFails: 3,
		minBackoff: 100 * time.Millisecond, maxBackoff: 5 * time.Second, readyTimeout: 30 * time.Second,
		restart: make(chan struct{}, 1), snap: make(chan chan []WorkerInfo), scale: make(chan scaleReq),
		finished: make(chan struct{}), checkEvery: time.Second, socks: &sockets{addr: noAddr{}},
	}
	for _, o := range opts {
		o(m)
	}
	return m
}

// runFake runs m's supervisor on f until the test ends.
func runFake(t *testing.T, m *Master, f *fakeEnv) {
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		defer close(m.finished)
		errc <- newSupervisor(m, f.env()).run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-errc; err != nil {
			t.Errorf("run: %v", err)
		}
	})
}

// states is pid -> state of every live worker, as Workers reports.
func states(t *testing.T, m *Master) map[int]string {
	t.Helper()
	infos, err := m.Workers(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out := map[int]string{}
	for _, w := range infos {
		out[w.PID] = w.State
	}
	return out
}

// waitStates waits until the live workers are exactly want.
func waitStates(t *testing.T, m *Master, want map[int]string) {
	t.Helper()
	var got map[int]string
	testproc.WaitFor(t, 5*time.Second, "workers", func() bool {
		got = states(t, m)
		if len(got) != len(want) {
			return false
		}
		for pid, s := range want {
			if got[pid] != s {
				return false
			}
		}
		return true
	})
}

func (fp *fakeProc) beReady()                        { fp.statusLine(statusReady) }
func (fp *fakeProc) say(line string)                 { fp.statusLine(line) }
func (fp *fakeProc) crash()                          { fp.exit() }
func (fp *fakeProc) setStuck(on bool)                { fp.mu.Lock(); fp.stuck = on; fp.mu.Unlock() }
func (fp *fakeProc) hasSignal(s syscall.Signal) bool { return slices.Contains(fp.got(), s) }

// readyCluster runs a fake master of n workers and makes each ready.
func readyCluster(t *testing.T, n int, opts ...Option) (*fakeEnv, *Master, []*fakeProc) {
	t.Helper()
	f := newFakeEnv()
	m := fakeMaster(n, opts...)
	runFake(t, m, f)
	want := map[int]string{}
	var ps []*fakeProc
	for i := range n {
		p := f.proc(t, i)
		p.beReady()
		want[p.pid] = "ready"
		ps = append(ps, p)
	}
	waitStates(t, m, want)
	return f, m, ps
}

func TestFakeRespawnBacksOff(t *testing.T) {
	f, m, ps := readyCluster(t, 1)
	p := ps[0]

	p.crash()
	waitStates(t, m, map[int]string{})
	f.advance(99 * time.Millisecond)
	if n := f.started(); n != 1 {
		t.Fatalf("restarted before the 100ms backoff: %d started", n)
	}
	f.advance(time.Millisecond)
	p2 := f.proc(t, 1)
	p2.beReady()
	waitStates(t, m, map[int]string{p2.pid: "ready"})

	p2.crash() // second crash in a row: 200ms
	waitStates(t, m, map[int]string{})
	f.advance(199 * time.Millisecond)
	if n := f.started(); n != 2 {
		t.Fatalf("restarted before the 200ms backoff: %d started", n)
	}
	f.advance(time.Millisecond)
	f.proc(t, 2)
}

func TestFakeWatchdogKillsSilentWorker(t *testing.T) {
	f, m, ps := readyCluster(t, 1, WorkerTimeout(3*time.Second))
	p := ps[0]
	for range 5 { // beating: never killed
		f.advance(time.Second)
		p.say(statusBeat)
	}
	states(t, m) // the checks so far are handled
	if p.hasSignal(syscall.SIGKILL) {
		t.Fatal("a beating worker was killed")
	}
	p.setStuck(true)
	f.advance(2 * time.Second)
	states(t, m)
	if p.hasSignal(syscall.SIGKILL) {
		t.Fatal("killed after 2s of silence, timeout 3s")
	}
	f.advance(time.Second)
	testproc.WaitFor(t, 5*time.Second, "SIGKILL", func() bool { return p.hasSignal(syscall.SIGKILL) })
	waitStates(t, m, map[int]string{})
	f.advance(100 * time.Millisecond) // the crash backoff
	p2 := f.proc(t, 1)
	p2.beReady()
	waitStates(t, m, map[int]string{p2.pid: "ready"})
}

// replaced checks a graceful replacement of old: a new process starts while
// old serves on; once it is ready, old is retired (SIGUSR1), not killed.
func replaced(t *testing.T, f *fakeEnv, m *Master, old *fakeProc, next int) *fakeProc {
	t.Helper()
	repl := f.proc(t, next)
	if old.hasSignal(syscall.SIGUSR1) {
		t.Fatal("old worker retired before its replacement was ready")
	}
	repl.beReady()
	testproc.WaitFor(t, 5*time.Second, "retirement", func() bool { return old.hasSignal(syscall.SIGUSR1) })
	testproc.WaitFor(t, 5*time.Second, "old gone, replacement ready", func() bool {
		st := states(t, m)
		_, oldLive := st[old.pid]
		return !oldLive && st[repl.pid] == "ready"
	})
	if old.hasSignal(syscall.SIGKILL) {
		t.Fatal("old worker was killed, not retired")
	}
	return repl
}

func TestFakeMaxRequestsWithJitter(t *testing.T) {
	f := newFakeEnv()
	m := fakeMaster(1, MaxRequests(10, 4)) // the fake jitter picks 4: 14
	runFake(t, m, f)
	p := f.proc(t, 0)
	p.beReady()
	waitStates(t, m, map[int]string{p.pid: "ready"})
	p.say(`stats {"done":12,"failed":1}`)
	f.advance(time.Second)
	states(t, m)
	if f.started() != 1 {
		t.Fatal("replaced at 13 answers, limit 14")
	}
	p.say(`stats {"done":12,"failed":2}`)
	f.advance(time.Second)
	replaced(t, f, m, p, 1)
}

func TestFakeMaxRSS(t *testing.T) {
	f, m, ps := readyCluster(t, 2, MaxRSS(100<<20))
	a, b := ps[0], ps[1]
	f.mu.Lock()
	f.rss[a.pid], f.rss[b.pid] = 100<<20, 101<<20
	f.mu.Unlock()
	f.advance(time.Second)
	repl := replaced(t, f, m, b, 2)
	waitStates(t, m, map[int]string{a.pid: "ready", repl.pid: "ready"})
	if repl.slot != b.slot {
		t.Errorf("replacement serves slot %d, want %d", repl.slot, b.slot)
	}
}

func TestFakeAskReplacement(t *testing.T) {
	f, m, ps := readyCluster(t, 1)
	p := ps[0]
	p.say(statusReplace + "job overran")
	p.say(statusReplace + "again") // one ask counts
	replaced(t, f, m, p, 1)
	if n := f.started(); n != 2 {
		t.Errorf("%d processes started, want 2", n)
	}
}

func TestFakeStuckRetireeKilledAfterGrace(t *testing.T) {
	f, m, ps := readyCluster(t, 1, Grace(10*time.Second))
	p := ps[0]
	p.setStuck(true)
	m.Restart()
	repl := f.proc(t, 1)
	repl.beReady()
	testproc.WaitFor(t, 5*time.Second, "retirement", func() bool { return p.hasSignal(syscall.SIGUSR1) })
	f.advance(10 * time.Second)
	testproc.WaitFor(t, 5*time.Second, "SIGKILL", func() bool { return p.hasSignal(syscall.SIGKILL) })
	waitStates(t, m, map[int]string{repl.pid: "ready"})
}

func TestFakeRollingRestart(t *testing.T) {
	f, m, ps := readyCluster(t, 2)
	a, b := ps[0], ps[1]
	m.Restart()
	ra := replaced(t, f, m, a, 2)
	rb := replaced(t, f, m, b, 3)
	waitStates(t, m, map[int]string{ra.pid: "ready", rb.pid: "ready"})
}

func TestFakeScale(t *testing.T) {
	f, m, ps := readyCluster(t, 1)
	a := ps[0]
	ctx := context.Background()
	if n, err := m.Scale(ctx, +1); err != nil || n != 2 {
		t.Fatalf("Scale(+1) = %d, %v", n, err)
	}
	if n, err := m.SetWorkers(ctx, 3); err != nil || n != 3 {
		t.Fatalf("SetWorkers(3) = %d, %v", n, err)
	}
	b, c := f.proc(t, 1), f.proc(t, 2)
	b.beReady()
	c.beReady()
	waitStates(t, m, map[int]string{a.pid: "ready", b.pid: "ready", c.pid: "ready"})

	c.setStuck(true) // a removed worker finishing a long job
	if n, err := m.SetWorkers(ctx, 1); err != nil || n != 1 {
		t.Fatalf("SetWorkers(1) = %d, %v", n, err)
	}
	waitStates(t, m, map[int]string{a.pid: "ready", c.pid: "retiring"})
	for _, p := range []*fakeProc{b, c} {
		if !p.hasSignal(syscall.SIGUSR1) || p.hasSignal(syscall.SIGKILL) {
			t.Errorf("removed worker %d got %v, want a retirement", p.slot, p.got())
		}
	}
	c.crash() // finished: exits
	waitStates(t, m, map[int]string{a.pid: "ready"})
	f.advance(time.Minute) // no backoff restarts a removed slot
	states(t, m)
	if n := f.started(); n != 3 {
		t.Errorf("%d processes started, want 3", n)
	}
	if _, err := m.SetWorkers(ctx, 0); err == nil {
		t.Error("SetWorkers(0) did not fail")
	}
	if _, err := m.Scale(ctx, -1); err == nil {
		t.Error("Scale below 1 did not fail")
	}
}

func TestScaleReusePortNeedsMigration(t *testing.T) {
	if migrateReq() {
		t.Skip("net.ipv4.tcp_migrate_req=1: reuseport can shrink")
	}
	f := newFakeEnv()
	m := fakeMaster(2)
	m.balance, m.socketless = BalanceReusePort, false
	m.socks = &sockets{addr: noAddr{}, files: nil}
	runFake(t, m, f)
	if _, err := m.SetWorkers(context.Background(), 1); !errors.Is(err, ErrCannotShrink) {
		t.Fatalf("SetWorkers(1) under reuseport: %v, want ErrCannotShrink", err)
	}
}
