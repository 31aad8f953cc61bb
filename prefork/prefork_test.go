package prefork

import (
	"bufio"
	"context"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/flipbench/flipbench/internal/testproc"
)

func TestWorkersAnswer(t *testing.T) {
	for _, b := range allBalances {
		t.Run(string(b), func(t *testing.T) {
			c := startCluster(t, b, 2)
			c.waitReady(t, 2)
			// Two slow requests at once: the shared gate and rr send the
			// second to the idle worker; the reuseport hash and none may not,
			// so try a few rounds.
			seen := map[int]bool{}
			for round := 0; round < 20 && len(seen) < 2; round++ {
				var mu sync.Mutex
				var wg sync.WaitGroup
				for range 2 {
					wg.Go(func() {
						pid, err := get(t.Context(), c.addr, "?sleep=100")
						if err != nil {
							t.Error(err)
							return
						}
						mu.Lock()
						seen[pid] = true
						mu.Unlock()
					})
				}
				wg.Wait()
				if (b == BalanceShared || b == BalanceRR) && len(seen) != 2 {
					t.Fatalf("%s: two concurrent requests went to %v, want two workers", b, seen)
				}
			}
			if len(seen) != 2 {
				t.Fatalf("saw worker pids %v, want 2 distinct", seen)
			}
			for pid := range seen {
				if pid == os.Getpid() {
					t.Fatal("the master answered")
				}
			}
		})
	}
}

func TestCrashRecovery(t *testing.T) {
	for _, b := range allBalances {
		t.Run(string(b), func(t *testing.T) {
			c := startCluster(t, b, 2)
			victim := c.waitReady(t, 2)[0]
			if err := syscall.Kill(victim, syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			killed := time.Now()
			c.waitReady(t, 2, victim)
			want := "worker_pid=" + strconv.Itoa(victim) + " signal=killed"
			if !strings.Contains(c.log.String(), want) {
				t.Errorf("master log lacks %q", want)
			}
			// Every request answers, from a live worker.
			for range 10 {
				pid, err := get(t.Context(), c.addr, "")
				if err != nil {
					t.Fatal(err)
				}
				if pid == victim {
					t.Fatal("killed worker answered")
				}
			}
			t.Logf("replacement online %v after kill -9", time.Since(killed).Round(time.Millisecond))
		})
	}
}

func TestStopFinishesAcceptedRequests(t *testing.T) {
	for _, b := range allBalances {
		t.Run(string(b), func(t *testing.T) {
			c := startCluster(t, b, 2)
			c.waitReady(t, 2)
			const n = 20
			cd := &testproc.Dialer{}
			errs := make(chan error, n)
			for range n {
				go func() {
					_, err := getVia(t.Context(), cd.DialContext, c.addr, "?sleep=50")
					errs <- err
				}()
			}
			// Stop once every request is connected: each one is queued in
			// the kernel or accepted by a worker.
			testproc.WaitFor(t, 5*time.Second, "all connected and sent", func() bool { return cd.Sent.Load() == n })
			start := time.Now()
			if err := c.stop(t); err != nil {
				t.Fatalf("Run: %v", err)
			}
			for range n {
				if err := <-errs; err != nil {
					t.Errorf("request failed: %v", err)
				}
			}
			t.Logf("stopped in %v", time.Since(start).Round(time.Millisecond))
			if !strings.Contains(c.log.String(), "reason=stopped") {
				t.Error("no worker logged as stopped")
			}
		})
	}
}

func TestRollingRestart(t *testing.T) {
	for _, b := range allBalances {
		t.Run(string(b), func(t *testing.T) {
			c := startCluster(t, b, 2)
			old := c.waitReady(t, 2)

			ctx, stopStream := context.WithCancel(t.Context())
			var ok, failed atomic.Int32
			var wg sync.WaitGroup
			for range 4 {
				wg.Go(func() {
					for ctx.Err() == nil {
						_, err := get(context.Background(), c.addr, "?sleep=5")
						if err != nil {
							failed.Add(1)
							t.Errorf("request during restart: %v", err)
						} else {
							ok.Add(1)
						}
					}
				})
			}
			// The stream runs before, through and after the restart.
			testproc.WaitFor(t, 10*time.Second, "answers before", func() bool { return ok.Load() >= 8 })
			c.m.Restart()
			testproc.WaitFor(t, 10*time.Second, "rolling restart done", func() bool {
				return strings.Contains(c.log.String(), "rolling restart done")
			})
			after := ok.Load() + 8
			testproc.WaitFor(t, 10*time.Second, "answers after", func() bool { return ok.Load() >= after })
			stopStream()
			wg.Wait()
			t.Logf("%d requests ok, %d failed", ok.Load(), failed.Load())

			// Now only new workers answer.
			for range 10 {
				pid, err := get(t.Context(), c.addr, "")
				if err != nil {
					t.Fatal(err)
				}
				for _, o := range old {
					if pid == o {
						t.Fatalf("old worker %d still answers", pid)
					}
				}
			}
			for _, o := range old {
				if testproc.Alive(o) {
					t.Errorf("old worker %d still alive", o)
				}
			}
		})
	}
}

func TestStartFailureStopsMaster(t *testing.T) {
	for _, tc := range []struct{ arg, want string }{
		{"fail", "boom: cannot open the thing"},
		{"crash", "exit status 3"},
	} {
		t.Run(tc.arg, func(t *testing.T) {
			lb := &logBuf{}
			m, err := New(Addr("127.0.0.1:0"), Workers(2), Command(os.Args[0], tc.arg),
				Logger(slogTo(lb)), Backoff(50*time.Millisecond, time.Second))
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			done := make(chan error, 1)
			go func() { done <- m.Run(context.Background()) }()
			select {
			case err = <-done:
			case <-time.After(5 * time.Second):
				t.Fatalf("master still running after 5s; log:\n%s", lb)
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "before becoming ready") {
				t.Fatalf("Run error = %v, want one naming %q", err, tc.want)
			}
			t.Logf("gave up after %v: %v", time.Since(start).Round(time.Millisecond), err)
		})
	}
}

func TestGraceKillsStragglers(t *testing.T) {
	c := startCluster(t, BalanceReusePort, 2, Command(os.Args[0], "stubborn"), Grace(300*time.Millisecond))
	c.waitReady(t, 2)
	start := time.Now()
	if err := c.stop(t); err != nil {
		t.Fatalf("Run: %v", err)
	}
	// Well above the grace, for a loaded machine, yet below the 10 s after
	// which c.stop gives up: the stubborn workers never exit on their own.
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("stop took %v with a 300ms grace", took)
	}
	if n := strings.Count(c.log.String(), "still running after grace, killing"); n != 2 {
		t.Errorf("%d workers killed after grace, want 2", n)
	}
}

func TestReadyTimeout(t *testing.T) {
	lb := &logBuf{}
	m, err := New(Addr("127.0.0.1:0"), Workers(1), Command(os.Args[0], "hang"),
		Logger(slogTo(lb)), ReadyTimeout(200*time.Millisecond), MaxStartFailures(1))
	if err != nil {
		t.Fatal(err)
	}
	err = m.Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "signal: killed") {
		t.Fatalf("Run error = %v, want a killed worker", err)
	}
}

func TestPortTaken(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	for _, b := range allBalances {
		_, err := New(Addr(ln.Addr().String()), Workers(2), Balancing(b), Command(os.Args[0]))
		if err == nil || !strings.Contains(err.Error(), "address already in use") {
			t.Errorf("%s: New error = %v, want address already in use", b, err)
		}
	}
}

func TestBadOptions(t *testing.T) {
	for name, opts := range map[string][]Option{
		"no addr":     {Workers(1)},
		"0 workers":   {Addr("127.0.0.1:0"), Workers(0)},
		"bad balance": {Addr("127.0.0.1:0"), Balancing("round-robin")},
		"0 grace":     {Addr("127.0.0.1:0"), Grace(0)},
	} {
		if _, err := New(opts...); err == nil {
			t.Errorf("%s: New succeeded", name)
		}
	}
}

// TestMasterDeath kills a master with SIGKILL and checks its workers follow.
func TestMasterDeath(t *testing.T) {
	for _, b := range allBalances {
		t.Run(string(b), func(t *testing.T) { testMasterDeath(t, b) })
	}
}

func testMasterDeath(t *testing.T, b Balance) {
	cmd := exec.Command(os.Args[0], "run-master", "127.0.0.1:0", string(b))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var pids []int
	sc := bufio.NewScanner(out)
	deadline := time.AfterFunc(5*time.Second, func() { cmd.Process.Kill() })
	for len(pids) < 2 && sc.Scan() {
		if m := onlineRE.FindStringSubmatch(sc.Text()); m != nil {
			pid, _ := strconv.Atoi(m[2])
			pids = append(pids, pid)
		}
	}
	deadline.Stop()
	go func() {
		for sc.Scan() {
		}
	}()
	if len(pids) < 2 {
		t.Fatalf("workers did not come online: %v", pids)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	testproc.WaitFor(t, 3*time.Second, "workers to exit after the master died", func() bool {
		return !testproc.Alive(pids[0]) && !testproc.Alive(pids[1])
	})
	t.Cleanup(func() {
		for _, p := range pids {
			if testproc.Alive(p) {
				syscall.Kill(p, syscall.SIGKILL)
			}
		}
	})
}

func TestParseBalance(t *testing.T) {
	for _, s := range []string{"reuseport", "shared", "rr", "none"} {
		if b, err := ParseBalance(s); err != nil || string(b) != s {
			t.Errorf("ParseBalance(%q) = %q, %v", s, b, err)
		}
	}
	for _, s := range []string{"round-robin", "", "Shared"} {
		if _, err := ParseBalance(s); err == nil {
			t.Errorf("ParseBalance(%q) succeeded", s)
		}
	}
}

// TestListenerStaysNonBlocking checks that handing the master's socket to a
// child (exec.Cmd.Start calls Fd) leaves the shared socket non-blocking:
// a worker blocked in accept(2) on a blocking socket cannot be woken by a
// deadline, and its stop would hang until the grace SIGKILL.
func TestListenerStaysNonBlocking(t *testing.T) {
	ctx := t.Context()
	shared, _, err := listenShared(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer shared.Close()
	group, _, err := listenReusePort(ctx, "127.0.0.1:0", 2)
	if err != nil {
		t.Fatal(err)
	}
	defer closeFiles(group)
	for _, f := range append([]*os.File{shared}, group...) {
		// A child that runs no test: only its start matters.
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.ExtraFiles = []*os.File{f}
		if err := cmd.Run(); err != nil {
			t.Fatalf("child: %v", err)
		}
		flags, err := unix.FcntlInt(f.Fd(), unix.F_GETFL, 0)
		if err != nil {
			t.Fatal(err)
		}
		if flags&unix.O_NONBLOCK == 0 {
			t.Errorf("%s: O_NONBLOCK cleared after starting a child", f.Name())
		}
	}
}

// countingCtx counts calls to Done.
type countingCtx struct {
	context.Context
	calls atomic.Int64
}

func (c *countingCtx) Done() <-chan struct{} {
	c.calls.Add(1)
	return c.Context.Done()
}

// lingeringApp is testApp taking a while to return after its stop, so that
// a Serve loop spinning on a done context would show.
type lingeringApp struct{ testApp }

func (a lingeringApp) Serve(ctx context.Context, ln net.Listener) error {
	err := a.testApp.Serve(ctx, ln)
	time.Sleep(300 * time.Millisecond) // the lingering is the behaviour under test
	return err
}

func TestServeWithCancelledContext(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	statusR, statusW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer statusR.Close()
	w := &Worker{balance: BalanceShared, masterPID: os.Getppid(), ln: inner, status: statusW}
	parent, cancel := context.WithCancel(context.Background())
	cancel()
	ctx := &countingCtx{Context: parent}
	done := make(chan error, 1)
	start, cpu0 := time.Now(), cpuTime(t)
	go func() { done <- w.Serve(ctx, lingeringApp{}) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Serve: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return within 10s of a cancelled context")
	}
	wall, cpu := time.Since(start), cpuTime(t)-cpu0
	t.Logf("Serve returned %v after a cancelled context, using %v of CPU; ctx.Done called %d times",
		wall.Round(time.Millisecond), cpu.Round(time.Millisecond), ctx.calls.Load())
	// A loop still selecting on the done channel would spin, a core busy,
	// for the whole of the app's linger; an idle one uses a few ms.
	if n := ctx.calls.Load(); n > 10 {
		t.Errorf("ctx.Done called %d times: the Serve loop spins on a done context", n)
	}
	if cpu > wall/2 {
		t.Errorf("Serve used %v of CPU in %v: the loop spins on a done context", cpu, wall)
	}
}

// cpuTime is the CPU time this process has used so far.
func cpuTime(t *testing.T) time.Duration {
	t.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestPortTakenByCluster checks that a second reuseport group on a port
// that a first group holds is refused: Linux would let the same user join.
func TestPortTakenByCluster(t *testing.T) {
	first, err := New(Addr("127.0.0.1:0"), Workers(2), Balancing(BalanceReusePort), Command(os.Args[0]))
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	for _, b := range allBalances {
		second, err := New(Addr(first.Addr().String()), Workers(2), Balancing(b), Command(os.Args[0]))
		if err == nil {
			second.Close()
			t.Errorf("%s: second cluster bound the taken port %s", b, first.Addr())
			continue
		}
		if !strings.Contains(err.Error(), "address already in use") {
			t.Errorf("%s: New error = %v, want address already in use", b, err)
		}
	}
}

// TestWorkersIgnoreSIGHUP sends SIGHUP to the workers, as a terminal hangup
// would to the whole process group: they keep serving.
func TestWorkersIgnoreSIGHUP(t *testing.T) {
	c := startCluster(t, BalanceReusePort, 2)
	pids := c.waitReady(t, 2)
	for _, pid := range pids {
		// Ignored, SIGHUP is discarded when sent: nothing is left to wait for.
		if !testproc.Ignores(pid, syscall.SIGHUP) {
			t.Errorf("worker %d does not ignore SIGHUP", pid)
		}
		if err := syscall.Kill(pid, syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
	}
	for _, pid := range pids {
		if !testproc.Alive(pid) {
			t.Errorf("worker %d died of SIGHUP", pid)
		}
	}
	if strings.Contains(c.log.String(), "worker exited") {
		t.Error("a worker exited after SIGHUP")
	}
	if _, err := get(t.Context(), c.addr, ""); err != nil {
		t.Fatal(err)
	}
}
