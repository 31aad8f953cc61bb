package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/flipbench/flipbench/contract"
	"github.com/flipbench/flipbench/internal/syncbuf"
	"github.com/flipbench/flipbench/internal/testproc"
)

// bin is the clustered binary, built once by TestMain.
var bin, faultBin string // the release build, and the fault build

func TestMain(m *testing.M) {
	// The fault build (-tags flipbench_faults) for the supervisor's tests.
	path, cleanup, err := testproc.Build(".", "clustered-faults", "flipbench_faults")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	faultBin = path
	code := testproc.Main(m, ".", "clustered", &bin)
	cleanup()
	os.Exit(code)
}

var (
	image    = filepath.Join("..", "..", "testdata", "photo-1mp.jpg")
	balances = []string{"reuseport", "shared", "rr", "none"}
	addrRE   = regexp.MustCompile(`msg="master running" .*addr=(\S+)`)
	onlineRE = regexp.MustCompile(`msg="worker online" .*worker=(\d+) worker_pid=(\d+)`)
)

// master is a running bin/clustered.
type master struct {
	cmd    *exec.Cmd
	out    *syncbuf.Buffer
	addr   string
	admin  string // the admin address start gave it; "" if the test gave its own
	tmp    string
	exited chan struct{}
	err    error // Wait's result, once exited is closed
}

// start runs the binary with 2 workers and balance on a free loopback port,
// with an admin address on loopback unless args give -admin, and waits
// until both workers are ready: as /workers shows them, or without start's
// admin address as the log does. Cleanup kills by PID whatever is left and
// checks /proc that no worker survived.
func start(t *testing.T, balance string, args ...string) *master {
	t.Helper()
	own := !slices.Contains(args, "-"+contract.FlagAdmin)
	if own {
		args = append(args, "-"+contract.FlagAdmin, "127.0.0.1:0")
	}
	m := launch(t, append([]string{"-workers", "2", "-balance", balance, "-addr", "127.0.0.1:0",
		"-image", image, "-grace", "10s"}, args...)...)
	testproc.WaitFor(t, 10*time.Second, "addresses in the log", func() bool {
		return addrRE.MatchString(m.out.String()) && (!own || adminRE.MatchString(m.out.String()))
	})
	m.addr = addrRE.FindStringSubmatch(m.out.String())[1]
	if !own {
		testproc.WaitFor(t, 10*time.Second, "2 workers online", func() bool { return len(m.workerPIDs()) >= 2 })
		return m
	}
	m.admin = m.adminAddr(t)
	waitWorkers(t, m.admin, 2, nil)
	return m
}

// ready is the pids /workers shows ready now.
func (m *master) ready(t *testing.T) []int {
	t.Helper()
	pids, _ := readyPIDs(t, m.admin)
	return pids
}

// launch runs the binary with args and a fresh -tmpdir.
func launch(t *testing.T, args ...string) *master {
	t.Helper()
	return launchBin(t, bin, args...)
}

// launchBin runs the binary at path with args and a fresh -tmpdir.
func launchBin(t *testing.T, path string, args ...string) *master {
	t.Helper()
	m := &master{out: &syncbuf.Buffer{}, tmp: t.TempDir(), exited: make(chan struct{})}
	m.cmd = exec.Command(path, append(args, "-tmpdir", m.tmp)...)
	m.cmd.Stdout, m.cmd.Stderr = m.out, m.out
	if err := m.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		m.err = m.cmd.Wait()
		close(m.exited)
	}()
	t.Cleanup(func() {
		m.cmd.Process.Kill()
		<-m.exited
		// Workers follow a dead master (Pdeathsig), after their own drain:
		// give them a moment before calling one a survivor.
		deadline := time.Now().Add(5 * time.Second)
		for _, pid := range m.workerPIDs() {
			if !testproc.Poll(time.Until(deadline), func() bool { return !testproc.Alive(pid) }) {
				t.Errorf("worker %d outlived the test", pid)
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
		if t.Failed() {
			t.Logf("output:\n%s", m.out)
		}
	})
	return m
}

// workerPIDs lists every worker the master reported online in its log,
// the dead included: for the checks that none survives, or that none
// started. Live workers come from /workers (ready).
func (m *master) workerPIDs() []int {
	var pids []int
	for _, s := range onlineRE.FindAllStringSubmatch(m.out.String(), -1) {
		pid, _ := strconv.Atoi(s[2])
		pids = append(pids, pid)
	}
	return pids
}

// stop sends sig and waits for the master to exit; it returns the exit
// error and how long that took.
func (m *master) stop(t *testing.T, sig syscall.Signal) (time.Duration, error) {
	t.Helper()
	start := time.Now()
	if err := m.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	select {
	case <-m.exited:
	case <-time.After(15 * time.Second):
		t.Fatal("master did not exit within 15s")
	}
	return time.Since(start), m.err
}

// waitReplacement waits, up to 10 s, until /workers shows a worker ready
// that is none of old (the replacement of a killed one) and it answers
// GET /, and returns its pid.
func (m *master) waitReplacement(t *testing.T, c *client, old []int) int {
	t.Helper()
	var fresh int
	testproc.WaitFor(t, 10*time.Second, "the replacement answering", func() bool {
		fresh = 0
		for _, pid := range m.ready(t) {
			if !slices.Contains(old, pid) {
				fresh = pid
			}
		}
		if fresh == 0 {
			return false
		}
		_, pid, err := c.do(http.MethodGet, m.addr, "/")
		return err == nil && pid == fresh
	})
	return fresh
}

// checkGone checks that the master and every worker are gone and the temp
// dir is empty.
func (m *master) checkGone(t *testing.T) {
	t.Helper()
	if testproc.Alive(m.cmd.Process.Pid) {
		t.Errorf("master %d still alive", m.cmd.Process.Pid)
	}
	testproc.WaitFor(t, 2*time.Second, "workers gone", func() bool {
		for _, pid := range m.workerPIDs() {
			if testproc.Alive(pid) {
				return false
			}
		}
		return true
	})
	ents, err := os.ReadDir(m.tmp)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		t.Errorf("left in -tmpdir: %s", e.Name())
	}
}

// client sends each request on its own connection and counts connections
// the kernel completed.
type client struct {
	testproc.Dialer
	http *http.Client
}

func newClient() *client {
	c := &client{}
	c.http = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		DisableKeepAlives: true,
		DialContext:       c.DialContext,
	}}
	return c
}

// do sends method /path and returns the status and the answering pid: the
// X-Worker-PID header, or for GET / (which the contract does not give the
// header) the body.
func (c *client) do(method, addr, path string) (int, int, error) {
	req, err := http.NewRequest(method, "http://"+addr+path, nil)
	if err != nil {
		return 0, 0, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, 0, err
	}
	h := resp.Header.Get("X-Worker-PID")
	if h == "" && method == http.MethodGet && path == "/" {
		h = strings.TrimSpace(string(body))
	}
	pid, err := strconv.Atoi(h)
	if err != nil {
		return resp.StatusCode, 0, fmt.Errorf("X-Worker-PID: %w", err)
	}
	return resp.StatusCode, pid, nil
}

func (c *client) flip(addr string) (int, error) {
	code, pid, err := c.do(http.MethodPost, addr, "/flip")
	if err == nil && code != http.StatusOK {
		err = fmt.Errorf("POST /flip: status %d", code)
	}
	return pid, err
}

func TestTwoWorkersAnswer(t *testing.T) {
	for _, b := range balances {
		t.Run(b, func(t *testing.T) {
			m := start(t, b)
			c := newClient()
			seen := map[int]bool{}
			// Two jobs at once: shared and rr must put them on two workers;
			// the reuseport hash and none may not, so allow a few rounds.
			for round := 0; round < 10 && len(seen) < 2; round++ {
				var mu sync.Mutex
				var wg sync.WaitGroup
				for range 2 {
					wg.Go(func() {
						pid, err := c.flip(m.addr)
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
				if (b == "shared" || b == "rr") && len(seen) < 2 {
					t.Fatalf("two jobs at once both went to %v", seen)
				}
			}
			if len(seen) != 2 {
				t.Fatalf("X-Worker-PID values %v, want 2 distinct", seen)
			}
			workers := map[int]bool{}
			for pid := range seen {
				if pid == m.cmd.Process.Pid {
					t.Fatal("the master answered")
				}
			}
			// /healthz reports the worker's index and pid.
			for i := 0; i < 20 && len(workers) < 2; i++ {
				resp, err := c.http.Get("http://" + m.addr + "/healthz")
				if err != nil {
					t.Fatal(err)
				}
				var h struct{ PID, Worker int }
				err = json.NewDecoder(resp.Body).Decode(&h)
				resp.Body.Close()
				if err != nil {
					t.Fatal(err)
				}
				if ready := m.ready(t); !slices.Contains(ready, h.PID) || h.Worker < 0 || h.Worker > 1 {
					t.Fatalf("/healthz pid %d worker %d; workers %v", h.PID, h.Worker, ready)
				}
				workers[h.Worker] = true
			}
			if _, err := m.stop(t, syscall.SIGTERM); err != nil {
				t.Errorf("master exit: %v", err)
			}
			m.checkGone(t)
		})
	}
}

func TestKilledWorkerIsReplaced(t *testing.T) {
	for _, b := range balances {
		t.Run(b, func(t *testing.T) {
			m := start(t, b)
			old := m.ready(t)
			victim := old[0]
			if err := syscall.Kill(victim, syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			killed := time.Now()
			// Wait longer than the 2 s the issue asks for, so that a miss
			// reports the time it took rather than only a timeout.
			fresh := m.waitReplacement(t, newClient(), old)
			took := time.Since(killed)
			t.Logf("new worker %d answered %v after kill -9", fresh, took.Round(time.Millisecond))
			if took > 2*time.Second {
				t.Errorf("new worker answered %v after kill -9, want within 2s", took.Round(time.Millisecond))
			}
			want := fmt.Sprintf(`msg="worker exited" .*worker_pid=%d signal=killed`, victim)
			if !regexp.MustCompile(want).MatchString(m.out.String()) {
				t.Errorf("master log has no line matching %s", want)
			}
			if _, err := m.stop(t, syscall.SIGTERM); err != nil {
				t.Errorf("master exit: %v", err)
			}
			m.checkGone(t) // includes the killed worker's work dir
		})
	}
}

func TestSIGTERMDuringBurst(t *testing.T) {
	for _, b := range balances {
		t.Run(b, func(t *testing.T) {
			m := start(t, b)
			const n = 20
			c := newClient()
			errs := make(chan error, n)
			for range n {
				go func() {
					_, err := c.flip(m.addr)
					errs <- err
				}()
			}
			// Every request is connected (queued in the kernel or accepted
			// by a worker) before the stop.
			testproc.WaitFor(t, 5*time.Second, "all connected and sent", func() bool { return c.Sent.Load() == n })
			took, err := m.stop(t, syscall.SIGTERM)
			if err != nil {
				t.Errorf("master exit: %v", err)
			}
			failed := 0
			for range n {
				if err := <-errs; err != nil {
					failed++
					t.Errorf("request: %v", err)
				}
			}
			t.Logf("master exited %v after SIGTERM; %d/%d requests failed", took.Round(time.Millisecond), failed, n)
			m.checkGone(t)
		})
	}
}

func TestSIGHUPRollingRestart(t *testing.T) {
	for _, b := range balances {
		t.Run(b, func(t *testing.T) {
			m := start(t, b)
			old := m.ready(t)
			c := newClient()
			stopStream := make(chan struct{})
			var ok, failed atomic.Int32
			var wg sync.WaitGroup
			for range 3 {
				wg.Go(func() {
					for {
						select {
						case <-stopStream:
							return
						default:
						}
						if _, err := c.flip(m.addr); err != nil {
							failed.Add(1)
							t.Errorf("request during rolling restart: %v", err)
						} else {
							ok.Add(1)
						}
					}
				})
			}
			// The stream runs before, through and after the restart.
			testproc.WaitFor(t, 15*time.Second, "answers before", func() bool { return ok.Load() >= 3 })
			if err := m.cmd.Process.Signal(syscall.SIGHUP); err != nil {
				t.Fatal(err)
			}
			testproc.WaitFor(t, 15*time.Second, "rolling restart done", func() bool {
				return strings.Contains(m.out.String(), "rolling restart done")
			})
			after := ok.Load() + 3
			testproc.WaitFor(t, 15*time.Second, "answers after", func() bool { return ok.Load() >= after })
			close(stopStream)
			wg.Wait()
			t.Logf("%d requests ok, %d failed during the rolling restart", ok.Load(), failed.Load())
			if ok.Load() == 0 {
				t.Error("no request succeeded")
			}
			for range 6 {
				_, pid, err := c.do(http.MethodGet, m.addr, "/")
				if err != nil {
					t.Fatal(err)
				}
				for _, o := range old {
					if pid == o {
						t.Fatalf("old worker %d still answers", pid)
					}
				}
			}
			if _, err := m.stop(t, syscall.SIGTERM); err != nil {
				t.Errorf("master exit: %v", err)
			}
			m.checkGone(t)
		})
	}
}

func TestStartFailures(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	for _, b := range balances {
		for _, tc := range []struct {
			name string
			args []string
			want []string
		}{
			{"taken port", []string{"-addr", taken.Addr().String(), "-image", image}, []string{"address already in use"}},
			{"missing image", []string{"-addr", "127.0.0.1:0", "-image", "testdata/nope.jpg"},
				[]string{"before becoming ready", "nope.jpg", "no such file"}},
		} {
			t.Run(b+"/"+tc.name, func(t *testing.T) {
				start := time.Now()
				m := launch(t, append([]string{"-workers", "2", "-balance", b}, tc.args...)...)
				select {
				case <-m.exited:
				case <-time.After(5 * time.Second):
					t.Fatal("master still running after 5s")
				}
				took := time.Since(start)
				if m.err == nil {
					t.Fatal("master exited 0")
				}
				lines := strings.Split(strings.TrimSpace(m.out.String()), "\n")
				last := lines[len(lines)-1]
				if !strings.HasPrefix(last, "clustered: ") {
					t.Errorf("last line %q is not the error", last)
				}
				for _, w := range tc.want {
					if !strings.Contains(last, w) {
						t.Errorf("error %q lacks %q", last, w)
					}
				}
				t.Logf("exit %v after %v: %s", m.err, took.Round(time.Millisecond), last)
				m.checkGone(t)
			})
		}
	}
}

// TestStopAfterReplacementShared stops a shared-mode cluster, with no
// traffic, after a worker was replaced. Starting the replacement must not
// leave the shared socket blocking for the surviving worker: an accept(2)
// blocked in the kernel ignores the stop's deadline, and the master would
// wait for the grace period's SIGKILL.
func TestStopAfterReplacementShared(t *testing.T) {
	m := start(t, "shared", "-grace", "20s")
	old := m.ready(t)
	if err := syscall.Kill(old[0], syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	// Traffic while the replacement starts keeps the survivor accepting.
	m.waitReplacement(t, newClient(), old)
	took, err := m.stop(t, syscall.SIGTERM)
	if err != nil {
		t.Errorf("master exit: %v", err)
	}
	t.Logf("master exited %v after SIGTERM (grace 20s)", took.Round(time.Millisecond))
	if took > 10*time.Second {
		t.Errorf("master took %v to stop with no traffic: a worker waited for the grace SIGKILL", took.Round(time.Millisecond))
	}
	if strings.Contains(m.out.String(), "still running after grace") {
		t.Error("a worker was killed after the grace period")
	}
	m.checkGone(t)
}

// TestSecondClusterOnSamePort starts a cluster on the port of a running one:
// it must fail at once, not share the port (Linux lets a second
// SO_REUSEPORT group of the same user bind it).
func TestSecondClusterOnSamePort(t *testing.T) {
	for _, b := range balances {
		t.Run(b, func(t *testing.T) {
			first := start(t, b)
			begin := time.Now()
			second := launch(t, "-workers", "2", "-balance", b, "-addr", first.addr, "-image", image)
			select {
			case <-second.exited:
			case <-time.After(5 * time.Second):
				t.Fatal("second master still running after 5s")
			}
			if second.err == nil {
				t.Fatal("second master exited 0")
			}
			lines := strings.Split(strings.TrimSpace(second.out.String()), "\n")
			last := lines[len(lines)-1]
			if !strings.HasPrefix(last, "clustered: ") || !strings.Contains(last, "address already in use") {
				t.Errorf("last line %q is not a taken-port error", last)
			}
			if len(second.workerPIDs()) > 0 {
				t.Error("the second master started workers")
			}
			t.Logf("second master: exit %v after %v: %s", second.err, time.Since(begin).Round(time.Millisecond), last)
			// The first cluster still serves.
			if _, pid, err := newClient().do(http.MethodGet, first.addr, "/"); err != nil || !slices.Contains(first.ready(t), pid) {
				t.Errorf("first cluster: pid %d, error %v; its workers %v", pid, err, first.ready(t))
			}
			if _, err := first.stop(t, syscall.SIGTERM); err != nil {
				t.Errorf("first master exit: %v", err)
			}
			first.checkGone(t)
			second.checkGone(t)
		})
	}
}

// TestKillMidBurst kills one of 2 workers (SIGKILL) in the middle of a burst
// of 40 flips. A worker holds no more connections than its job slots (one,
// at GOMAXPROCS=1): with reuseport and shared the rest wait in the kernel
// queue of a socket the master holds, with rr in the master; so at most the
// victim's running job is lost, and one more: a connection whose request a
// loaded worker has not read within listen.DefaultFreshGrace gives its unit
// back, as a silent client's does, and the gate admits another (ci18 lost 2
// with reuseport, its victim killed 130 ms after it started, under the full
// test suite). none has no gate: the victim loses what it accepted (up to 36
// of 40 here), and the test only checks that the cluster recovers.
func TestKillMidBurst(t *testing.T) {
	for _, b := range balances {
		t.Run(b, func(t *testing.T) {
			m := start(t, b)
			old := m.ready(t)
			victim := old[0]
			const n, capacity = 40, 1
			c := newClient()
			var answered atomic.Int32
			errs := make(chan error, n)
			for range n {
				go func() {
					_, err := c.flip(m.addr)
					if err == nil {
						answered.Add(1)
					}
					errs <- err
				}()
			}
			// Mid-burst: every request connected, a few answered.
			testproc.WaitFor(t, 30*time.Second, "the burst under way", func() bool {
				return c.Connected.Load() == n && answered.Load() >= 4
			})
			if err := syscall.Kill(victim, syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			lost := 0
			for range n {
				if err := <-errs; err != nil {
					lost++
				}
			}
			t.Logf("%s: kill -9 of worker %d mid-burst: %d of %d requests lost", b, victim, lost, n)
			if b != "none" && lost > capacity+1 {
				t.Errorf("%d requests lost, want at most the victim's %d running job and one it had not read", lost, capacity)
			}
			// The cluster recovers: a replacement answers.
			m.waitReplacement(t, c, old)
			if _, err := m.stop(t, syscall.SIGTERM); err != nil {
				t.Errorf("master exit: %v", err)
			}
			m.checkGone(t)
		})
	}
}

// TestEngineFlag: with -engine vips a cluster of a libvips build serves its jobs on
// libvips (its mode says so); a build without libvips stops in the master, before any
// fork, saying how to build it in.
func TestEngineFlag(t *testing.T) {
	m := launch(t, "-workers", "2", "-addr", "127.0.0.1:0", "-image", image, "-engine", "vips")
	deadline := time.After(20 * time.Second)
	for len(m.workerPIDs()) < 2 {
		select {
		case <-m.exited:
			if m.err == nil || !strings.Contains(m.out.String(), "flipbench_vips") {
				t.Fatalf("master exited (%v) without saying how to get libvips:\n%s", m.err, m.out)
			}
			if strings.Contains(m.out.String(), "master running") {
				t.Errorf("the master started its workers for an engine the build lacks:\n%s", m.out)
			}
			t.Skip("bin/clustered built without libvips: GOFLAGS=-tags=flipbench_vips with libvips-dev installed")
		case <-deadline:
			t.Fatalf("no 2 workers online:\n%s", m.out)
		case <-time.After(10 * time.Millisecond):
		}
	}
	m.addr = addrRE.FindStringSubmatch(m.out.String())[1]
	c := newClient()
	if _, err := c.flip(m.addr); err != nil {
		t.Fatal(err)
	}
	resp, err := c.http.Get("http://" + m.addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var h struct{ Mode string }
	if err := json.NewDecoder(resp.Body).Decode(&h); err != nil || h.Mode != "vips-clustered" {
		t.Errorf("healthz mode %q (%v), want vips-clustered", h.Mode, err)
	}
	if _, err := m.stop(t, syscall.SIGTERM); err != nil {
		t.Errorf("stop: %v", err)
	}
}
