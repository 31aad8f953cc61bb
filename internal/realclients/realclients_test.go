package realclients

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/disintegration/imaging"

	"github.com/flipbench/flipbench/contract"
	"github.com/flipbench/flipbench/internal/stats"
	"github.com/flipbench/flipbench/internal/testproc"
	"github.com/flipbench/flipbench/loadtest"
	"github.com/flipbench/flipbench/runfolder"
	"github.com/flipbench/flipbench/trial"
)

// modes is every mode the tests load; the Node ones skip, with the reason,
// where node or the app's packages are missing.
var modes = []string{
	"standard", "threaded", "clustered", "shared", "rr", "none", "queued",
	"node-standard", "node-cluster", "node-cluster-none",
}

// place holds the binaries TestMain built; cores is fixed at 2 so that every
// cluster has two workers whatever the machine.
var place = trial.Place{NodeApp: filepath.Join("..", "..", "nodeapp"), Cores: 2}

// photo is what the Go modes flip (a job of about 0.1 s here); smallPhoto,
// a ninth of it, is what the Node modes flip, where Jimp takes about 0.9 s
// on the 1 MP photo and interleaves every job it holds.
var (
	photo      = filepath.Join("..", "..", "testdata", "photo-1mp.jpg")
	smallPhoto string
)

func TestMain(m *testing.M) {
	os.Exit(buildAndRun(m))
}

func buildAndRun(m *testing.M) int {
	dir, err := os.MkdirTemp("", "realclients-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	for _, name := range []string{"standard", "clustered", "queued"} {
		path, cleanup, err := testproc.Build(filepath.Join("..", "..", "cmd", name), name)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer cleanup()
		if err := os.Symlink(path, filepath.Join(dir, name)); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	place.BinDir = dir
	smallPhoto = filepath.Join(dir, "photo-small.jpg")
	if err := shrink(photo, smallPhoto, 3); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

// TestRealClients loads each mode with idle kept-alive clients before a
// burst, with slow senders, and with clients that send back to back on
// kept-alive connections. Before the gate counted work, a cluster's worker
// held a job slot for every open connection: two idle clients stopped a
// two-worker cluster, and eight of ten kept-alive clients were never
// answered.
func TestRealClients(t *testing.T) {
	if testing.Short() {
		t.Skip("starts every mode; not in -short")
	}
	for _, name := range modes {
		t.Run(name, func(t *testing.T) {
			spec, err := trial.Resolve(name, place, nil)
			if err != nil {
				if strings.HasPrefix(name, "node-") {
					t.Skipf("%s: %v", name, err)
				}
				t.Fatal(err)
			}
			img := photo
			if spec.Family == trial.FamilyNode {
				img = smallPhoto
			}
			out := t.TempDir()
			h := trial.Settings{BinDir: place.BinDir, NodeApp: place.NodeApp, Cores: place.Cores, Image: img, Out: out,
				Warmups: 3, StartTimeout: time.Minute, StopTimeout: time.Minute}.Harness()
			h.Logf = t.Logf
			if _, err := h.Open(context.Background(), nil, nil, []trial.Spec{spec}); err != nil {
				t.Fatal(err)
			}
			defer h.Close()
			rec, _, err := h.Run(context.Background(), spec, 1, filepath.Join(out, name), func(_ context.Context, tr *trial.Trial) error {
				loadMode(t, tr)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range rec.Problems {
				t.Errorf("%s: %s", name, p)
			}
			if t.Failed() {
				if b, err := os.ReadFile(filepath.Join(out, name, runfolder.FileServerLog)); err == nil {
					t.Logf("server log:\n%s", tail(b, 40))
				}
			}
		})
	}
}

// loadMode runs every part of the test at tr's server, warmed up by the
// harness; S is its warm-up's median.
func loadMode(t *testing.T, tr *trial.Trial) {
	srv := tr.Server
	var warm []time.Duration
	for _, d := range tr.Rec.Warmup {
		warm = append(warm, d.D())
	}
	s := stats.Median(warm)
	capacity := srv.Spec.Capacity
	t.Logf("S %v, capacity %d", s.Round(time.Millisecond), capacity)

	t.Run("idle-then-burst", func(t *testing.T) { idleThenBurst(t, srv, s, capacity) })
	if t.Failed() {
		return // later parts would only wait on the same fault
	}
	t.Run("slow-senders", func(t *testing.T) { slowSenders(t, srv) })
	t.Run("keepalive-fairness", func(t *testing.T) { keepAliveFairness(t, srv, s, capacity) })
	// What kept-alive clients left behind (turns, reservations) must
	// not keep the next burst out.
	t.Run("burst-after-keepalive", func(t *testing.T) { checkBurst(t, srv, s, capacity, 10, "after the kept-alive clients left") })
}

// idleThenBurst: 8 clients each send one request and keep their connection
// open and idle; then a burst of 10 on new connections must be answered
// within 3 × its ideal makespan, and the idle connections still answer (a
// Node server may have closed them: its keepAliveTimeout is 5 s).
func idleThenBurst(t *testing.T, srv *trial.Server, s time.Duration, capacity int) {
	const idle, burst = 8, 10
	var kept []*keptConn
	for range idle {
		kc := dialKept(t, srv.Addr())
		if status := kc.do(t, http.MethodGet, contract.PathPID); status != http.StatusOK {
			t.Fatalf("idle client: GET / answered %d", status)
		}
		kept = append(kept, kc)
	}
	makespan := checkBurst(t, srv, s, capacity, burst, fmt.Sprintf("behind %d idle clients", idle))
	if srv.Spec.Family == trial.FamilyNode && makespan > 5*time.Second {
		return
	}
	for i, kc := range kept {
		if status := kc.do(t, http.MethodGet, contract.PathPID); status != http.StatusOK {
			t.Errorf("idle client %d: its kept-alive connection answered %d after the burst", i, status)
		}
	}
}

// checkBurst fires a burst of n on new connections and checks that every
// request is answered within 3 × the ideal makespan; it returns the
// makespan. S is the larger of the job times measured before and after the
// burst, so that a machine that slows down meanwhile does not fail the test.
func checkBurst(t *testing.T, srv *trial.Server, s time.Duration, capacity, n int, what string) time.Duration {
	t.Helper()
	ideal := loadtest.IdealMakespan(n, capacity, s)
	start := time.Now()
	statuses := fireBurst(srv.URL(contract.PathFlip), n, 30*time.Second+10*ideal)
	makespan := time.Since(start)
	if after, err := srv.WarmUp(context.Background(), 3, time.Minute); err == nil && stats.Median(after) > s {
		ideal = loadtest.IdealMakespan(n, capacity, stats.Median(after))
	}
	for i, st := range statuses {
		if st != http.StatusOK {
			t.Errorf("burst request %d: %s", i, statusText(st))
		}
	}
	if makespan > 3*ideal {
		t.Errorf("burst of %d %s: last answer after %v, over 3 × the ideal %v", n, what, makespan.Round(time.Millisecond), ideal)
	}
	t.Logf("burst of %d %s: %v (ideal %v)", n, what, makespan.Round(time.Millisecond), ideal)
	return makespan
}

// slowSenders: 300 connections that never finish their headers and one
// upload that stalls mid-body; a normal request must still be answered
// within 5 s.
func slowSenders(t *testing.T, srv *trial.Server) {
	const slow = 300
	for i := range slow {
		c := dial(t, srv.Addr())
		if _, err := fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: slow-%d\r\n", contract.PathFlip, i); err != nil {
			t.Fatalf("slow sender %d: %v", i, err)
		}
	}
	up := dial(t, srv.Addr())
	if _, err := fmt.Fprintf(up, "POST %s HTTP/1.1\r\nHost: stalled\r\nContent-Type: image/jpeg\r\nContent-Length: 100000\r\n\r\n%s",
		contract.PathFlip, strings.Repeat("x", 100)); err != nil {
		t.Fatalf("stalled upload: %v", err)
	}
	statuses := fireBurst(srv.URL(contract.PathFlip), 1, 5*time.Second)
	if statuses[0] != http.StatusOK {
		t.Errorf("a normal request behind %d slow senders and a stalled upload: %s (within 5 s)", slow, statusText(statuses[0]))
	}
}

// answersEach is how many answers each kept-alive client is given time
// for: 5 in make test, where a starved client or one served under a third
// of another's share shows (a FIFO server keeps its clients within one
// answer of each other); 10 under make soak (FLIPBENCH_SOAK set), which
// doubles the mode's longest part.
func answersEach() int {
	if os.Getenv("FLIPBENCH_SOAK") != "" {
		return 10
	}
	return 5
}

// keepAliveFairness: 10 clients send back to back, each on its own
// kept-alive connection, until every client has answersEach answers (a count,
// so a slow machine takes longer rather than fails) or a bound passes; every
// client must be answered, and none more than 3 × as often as another
// served by the same process. A kept-alive client stays on the worker that
// took its connection, so across workers its share is set by how the
// connections were split (the kernel's hash under reuseport, a race under
// shared and none, the master's dealing under rr); the split is logged.
func keepAliveFairness(t *testing.T, srv *trial.Server, s time.Duration, capacity int) {
	const clients = 10
	each := answersEach()
	// d is the time a fair server needs; the bound leaves room for a busy
	// machine and ends a run in which a client starves.
	d := min(max(3*time.Second, time.Duration(clients*each/max(capacity, 1))*s), 30*time.Second)
	var reached atomic.Int32 // clients with each answers
	answers := make([]int, clients)
	pids := make([]map[string]bool, clients)
	first := make([]time.Duration, clients)
	errs := make([]error, clients)
	start := time.Now()
	// The clients stop sending at the deadline but wait for what they sent:
	// a request cut short would leave its job behind (the queued mode's
	// workers run it anyway) in the way of the next test's burst.
	ctx, cancel := context.WithTimeout(context.Background(), 2*d+30*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for i := range clients {
		pids[i] = map[string]bool{}
		wg.Go(func() {
			tr := &http.Transport{MaxConnsPerHost: 1, MaxIdleConnsPerHost: 1}
			defer tr.CloseIdleConnections()
			client := &http.Client{Transport: tr, Timeout: d + time.Minute}
			for ctx.Err() == nil {
				req, _ := http.NewRequest(http.MethodPost, srv.URL(contract.PathFlip), nil)
				resp, err := client.Do(req)
				if err != nil {
					errs[i] = err
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					errs[i] = fmt.Errorf("status %d", resp.StatusCode)
					return
				}
				if answers[i] == 0 {
					first[i] = time.Since(start).Round(time.Millisecond)
				}
				answers[i]++
				pids[i][resp.Header.Get(contract.HeaderWorkerPID)] = true
				if answers[i] == each && int(reached.Add(1)) == clients {
					cancel()
				}
			}
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("client %d: %v", i, err)
		}
	}
	if n := count(answers, 0); n > 0 {
		t.Fatalf("%d of %d clients were never answered: %v", n, clients, answers)
	}
	// A client answered by one process is that process's; one answered by
	// several (the queued mode's workers pull from one stream) shares them all.
	groups := map[string][]int{}
	for i, ps := range pids {
		key := "shared by all"
		if len(ps) == 1 {
			for p := range ps {
				key = "pid " + p
			}
		}
		groups[key] = append(groups[key], answers[i])
	}
	t.Logf("%d kept-alive clients for %v (until each had %d): answers per client %v, first answers at %v; clients by process: %v",
		clients, time.Since(start).Round(time.Millisecond), each, answers, first, groups)
	for key, as := range groups {
		if lo, hi := slices.Min(as), slices.Max(as); hi > 3*lo {
			t.Errorf("unfair within %s: the busiest client got %d answers, the least served %d (over 3 ×): %v", key, hi, lo, as)
		}
	}
}

// keptConn is one client's kept-alive connection, driven by hand so that
// the test knows it stays the same connection.
type keptConn struct {
	c net.Conn
	r *bufio.Reader
}

func dialKept(t *testing.T, addr string) *keptConn {
	c := dial(t, addr)
	return &keptConn{c: c, r: bufio.NewReader(c)}
}

// do sends one request and reads its answer within 10 s.
func (k *keptConn) do(t *testing.T, method, path string) int {
	t.Helper()
	k.c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := fmt.Fprintf(k.c, "%s %s HTTP/1.1\r\nHost: kept\r\n\r\n", method, path); err != nil {
		t.Fatalf("kept-alive client: %v", err)
	}
	resp, err := http.ReadResponse(k.r, nil)
	if err != nil {
		t.Fatalf("kept-alive client: %v", err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// fireBurst sends n POSTs at once, each on its own connection, and returns
// their statuses (0 for no answer within timeout).
func fireBurst(url string, n int, timeout time.Duration) []int {
	statuses := make([]int, n)
	client := &http.Client{Timeout: timeout, Transport: &http.Transport{DisableKeepAlives: true}}
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			resp, err := client.Post(url, "", nil)
			if err != nil {
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			statuses[i] = resp.StatusCode
		})
	}
	wg.Wait()
	return statuses
}

// shrink writes src scaled down by factor as a JPEG at dst.
func shrink(src, dst string, factor int) error {
	img, err := imaging.Open(src)
	if err != nil {
		return fmt.Errorf("shrink: %w", err)
	}
	b := img.Bounds()
	small := imaging.Resize(img, b.Dx()/factor, b.Dy()/factor, imaging.Box)
	if err := imaging.Save(small, dst, imaging.JPEGQuality(95)); err != nil {
		return fmt.Errorf("shrink: %w", err)
	}
	return nil
}

func statusText(st int) string {
	if st == 0 {
		return "no answer"
	}
	return fmt.Sprintf("status %d", st)
}

func count(xs []int, v int) int {
	n := 0
	for _, x := range xs {
		if x == v {
			n++
		}
	}
	return n
}

func tail(b []byte, lines int) string {
	ls := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(ls[max(0, len(ls)-lines):], "\n")
}
