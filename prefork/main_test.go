package prefork

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"regexp"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/flipbench/flipbench/internal/syncbuf"
	"github.com/flipbench/flipbench/prefork/jobstats"
	"github.com/flipbench/flipbench/server"

	"github.com/flipbench/flipbench/internal/testproc"
)

// TestMain turns the test binary into a tiny worker (or a tiny master) when
// a Master re-executes it; the first argument picks the behaviour.
func TestMain(m *testing.M) {
	if IsWorker() {
		os.Exit(testWorker(os.Args[1:]))
	}
	if len(os.Args) > 1 && os.Args[1] == "run-master" {
		os.Exit(testMaster(os.Args[2:]))
	}
	if _, ok := os.LookupEnv("GORACE"); !ok {
		// Race-enabled workers would sleep 1 s at exit (the default).
		os.Setenv("GORACE", "atexit_sleep_ms=0")
	}
	os.Exit(m.Run())
}

// testWorker serves testApp; args[0] is "ok", "fail", "crash" or "hang".
func testWorker(args []string) int {
	mode := "ok"
	if len(args) > 0 {
		mode = args[0]
	}
	if mode == "socketless" {
		return socketlessWorker()
	}
	w, err := NewWorker()
	if err != nil {
		fmt.Fprintln(os.Stderr, "test worker:", err)
		return 2
	}
	switch mode {
	case "fail":
		w.Fail(errors.New("boom: cannot open the thing"))
		return 1
	case "crash":
		return 3
	case "hang":
		for { // a worker that never gets ready: blocked until killed
			unix.Pause()
		}
	case "stubborn":
		w.Serve(context.Background(), stubbornApp{})
		return 0
	}
	if err := w.Serve(context.Background(), testApp{}); err != nil {
		fmt.Fprintln(os.Stderr, "test worker:", err)
		return 1
	}
	return 0
}

// testMaster runs a Master of "ok" workers on args[0] with balance args[1]
// and logs to stdout; used to kill a master from outside.
func testMaster(args []string) int {
	log := slog.New(slog.NewTextHandler(os.Stdout, nil))
	m, err := New(Addr(args[0]), Balancing(Balance(args[1])), Workers(2), Logger(log), Command(os.Args[0], "ok"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	if err := m.Run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// testApp answers every request with its pid, after ?sleep= milliseconds.
type testApp struct{}

func (testApp) Capacity() int { return 1 }

func (testApp) Serve(ctx context.Context, ln net.Listener) error {
	pid := strconv.Itoa(os.Getpid())
	hs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ms, err := strconv.Atoi(r.URL.Query().Get("sleep")); err == nil {
			time.Sleep(time.Duration(ms) * time.Millisecond) // a job's time: what the test is about
		}
		w.Header().Set("X-Worker-PID", pid)
		io.WriteString(w, pid)
	})}
	// The graceful stop every flipbench server makes: drain, then Shutdown.
	return server.ServeGracefully(ctx, hs, ln, 0)
}

// Stats reports the worker's pid as its done count, so a test can tell
// whose stats line the master attributed to whom.
func (testApp) Stats() jobstats.Stats { return jobstats.Stats{Done: int64(os.Getpid()), Queued: 1} }

// stubbornApp serves nothing and never stops.
type stubbornApp struct{}

func (stubbornApp) Capacity() int { return 1 }

func (stubbornApp) Serve(_ context.Context, ln net.Listener) error {
	go ln.Accept() // ready
	select {}
}

// logBuf is the log sink the tests search.
type logBuf struct{ syncbuf.Buffer }

var onlineRE = regexp.MustCompile(`msg="worker online" worker=(\d+) worker_pid=(\d+)`)

// onlinePIDs lists the pids of every "worker online" line so far: every
// worker ever, for the check that none outlives its master (Workers shows
// only the live ones).
func (b *logBuf) onlinePIDs() []int {
	var pids []int
	for _, m := range onlineRE.FindAllStringSubmatch(b.String(), -1) {
		pid, _ := strconv.Atoi(m[2])
		pids = append(pids, pid)
	}
	return pids
}

// cluster is a Master running in the background of a test.
type cluster struct {
	m      *Master
	log    *logBuf
	addr   string
	cancel context.CancelFunc
	done   chan error
}

func startCluster(t *testing.T, balance Balance, workers int, opts ...Option) *cluster {
	t.Helper()
	lb := &logBuf{}
	base := []Option{
		Addr("127.0.0.1:0"), Workers(workers), Balancing(balance), Grace(5 * time.Second),
		Logger(slog.New(slog.NewTextHandler(lb, nil))),
		Command(os.Args[0], "ok"), Backoff(50*time.Millisecond, time.Second),
	}
	m, err := New(append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &cluster{m: m, log: lb, addr: m.Addr().String(), cancel: cancel, done: make(chan error, 1)}
	go func() { c.done <- m.Run(ctx) }()
	t.Cleanup(func() {
		c.stop(t)
		if t.Failed() || os.Getenv("PREFORK_TEST_LOG") != "" {
			t.Logf("master log:\n%s", lb.String())
		}
	})
	return c
}

// readyPIDs is the pids of the workers the master has ready now.
func (c *cluster) readyPIDs(t *testing.T) []int {
	t.Helper()
	infos, err := c.m.Workers(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, w := range infos {
		if w.State == ready.String() {
			pids = append(pids, w.PID)
		}
	}
	return pids
}

// waitReady waits until exactly n workers are ready, none of them one of
// gone, and returns their pids.
func (c *cluster) waitReady(t *testing.T, n int, gone ...int) []int {
	t.Helper()
	var pids []int
	testproc.WaitFor(t, 10*time.Second, fmt.Sprintf("%d workers ready", n), func() bool {
		pids = c.readyPIDs(t)
		return len(pids) == n && !slices.ContainsFunc(pids, func(p int) bool { return slices.Contains(gone, p) })
	})
	return pids
}

// stop cancels the master, waits for Run and checks that no worker survives.
func (c *cluster) stop(t *testing.T) error {
	t.Helper()
	c.cancel()
	var err error
	select {
	case err = <-c.done:
		c.done <- err // keep it for a second stop
	case <-time.After(10 * time.Second):
		t.Fatal("master did not stop in 10s")
	}
	for _, pid := range c.log.onlinePIDs() {
		if testproc.Alive(pid) {
			t.Errorf("worker pid %d survived the master", pid)
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	return err
}

// get sends one request on a fresh connection and returns the worker pid.
func get(ctx context.Context, addr, query string) (int, error) {
	return getVia(ctx, nil, addr, query)
}

// getVia is get with a custom dial function.
func getVia(ctx context.Context, dial func(context.Context, string, string) (net.Conn, error), addr, query string) (int, error) {
	tr := &http.Transport{DisableKeepAlives: true, DialContext: dial}
	defer tr.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/"+query, nil)
	if err != nil {
		return 0, err
	}
	resp, err := tr.RoundTrip(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("status %d", resp.StatusCode)
	}
	if h := resp.Header.Get("X-Worker-PID"); h != string(body) {
		return 0, fmt.Errorf("X-Worker-PID %q, body %q", h, body)
	}
	return strconv.Atoi(string(body))
}

func slogTo(w io.Writer) *slog.Logger { return slog.New(slog.NewTextHandler(w, nil)) }

// allBalances are the balances every cluster test runs with.
var allBalances = []Balance{BalanceReusePort, BalanceShared, BalanceRR, BalanceNone}
