package main

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/flipbench/flipbench/contract"
	"github.com/flipbench/flipbench/internal/monitor"
	"github.com/flipbench/flipbench/internal/monitor/monitortest"
	"github.com/flipbench/flipbench/internal/testproc"
)

var adminRE = regexp.MustCompile(`msg="admin serving" .*admin_addr=(\S+)`)

// adminAddr is the master's admin address, from its log.
func (m *master) adminAddr(t *testing.T) string {
	t.Helper()
	sub := adminRE.FindStringSubmatch(m.out.String())
	if sub == nil {
		t.Fatalf("no admin address in the master log:\n%s", m.out)
	}
	return sub[1]
}

// workers GETs /workers from the admin address.
func workers(t *testing.T, admin string) contract.Workers {
	t.Helper()
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get("http://" + admin + contract.PathWorkers)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /workers: status %d", resp.StatusCode)
	}
	var ws contract.Workers
	if err := json.NewDecoder(resp.Body).Decode(&ws); err != nil {
		t.Fatalf("GET /workers: %v", err)
	}
	return ws
}

func doneSum(ws contract.Workers) int64 {
	var n int64
	for _, w := range ws.Workers {
		n += w.Done
	}
	return n
}

// TestAdmin checks the master's view: every worker with its pid, job
// counts that follow the jobs, one series per worker in /metrics, and a
// restart after a kill -9.
func TestAdmin(t *testing.T) {
	for _, b := range []string{"reuseport", "rr"} {
		t.Run(b, func(t *testing.T) {
			m := start(t, b)
			admin := m.admin
			pids := m.ready(t)

			ws := workers(t, admin)
			if ws.MasterPID != m.cmd.Process.Pid {
				t.Errorf("master_pid %d, want %d", ws.MasterPID, m.cmd.Process.Pid)
			}
			var listed []int
			for _, w := range ws.Workers {
				listed = append(listed, w.PID)
				if w.State != "ready" || w.Restarts != 0 || w.RSSBytes == 0 {
					t.Errorf("worker %+v: want ready, no restarts, some RSS", w)
				}
			}
			slices.Sort(listed)
			slices.Sort(pids)
			if !slices.Equal(listed, pids) {
				t.Fatalf("/workers lists pids %v, the master started %v", listed, pids)
			}
			before := doneSum(ws)

			const flips = 4
			c := newClient()
			for range flips {
				if _, err := c.flip(m.addr); err != nil {
					t.Fatal(err)
				}
			}
			testproc.WaitFor(t, 10*time.Second, fmt.Sprintf("%d more jobs done in /workers", flips), func() bool {
				return doneSum(workers(t, admin)) >= before+flips
			})

			fams := testproc.Scrape(t, "http://"+admin+contract.PathMetrics)
			done := fams[monitor.MetricJobsDone]
			if done == nil || len(done.GetMetric()) != 2 {
				t.Fatalf("%s: want one series per worker (2), got %v", monitor.MetricJobsDone, done)
			}
			var sum float64
			seen := map[string]bool{}
			for _, s := range done.GetMetric() {
				seen[testproc.Label(s, monitor.LabelWorker)] = true
				sum += testproc.Value(s)
			}
			if !seen["0"] || !seen["1"] {
				t.Errorf("%s worker labels %v, want 0 and 1", monitor.MetricJobsDone, seen)
			}
			if sum < flips {
				t.Errorf("%s sums to %v, want at least %d", monitor.MetricJobsDone, sum, flips)
			}
			for _, name := range []string{monitor.MetricJobsFailed, monitor.MetricJobsInFlight, monitor.MetricJobsQueued,
				monitor.MetricWorkerRSS, monitor.MetricRestarts, monitor.MetricWorkerUp} {
				if f := fams[name]; f == nil || len(f.GetMetric()) != 2 {
					t.Errorf("%s: want 2 series, got %v", name, f)
				}
			}

			// A killed worker: its index shows a new pid and a restart.
			victim := ws.Workers[0]
			if err := syscall.Kill(victim.PID, syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			testproc.WaitFor(t, 10*time.Second, "the replacement ready in /workers", func() bool {
				for _, w := range workers(t, admin).Workers {
					if w.Worker == victim.Worker && w.PID != victim.PID && w.State == "ready" {
						return w.Restarts == 1
					}
				}
				return false
			})
			for _, s := range testproc.Scrape(t, "http://"+admin+contract.PathMetrics)[monitor.MetricRestarts].GetMetric() {
				want := 0.0
				if testproc.Label(s, monitor.LabelWorker) == strconv.Itoa(victim.Worker) {
					want = 1
				}
				if got := testproc.Value(s); got != want {
					t.Errorf("%s{worker=%q} = %v, want %v", monitor.MetricRestarts, testproc.Label(s, monitor.LabelWorker), got, want)
				}
			}

			resp, err := http.Get("http://" + admin + contract.PathPprof)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("GET %s: status %d", contract.PathPprof, resp.StatusCode)
			}
			if _, err := m.stop(t, syscall.SIGTERM); err != nil {
				t.Errorf("master exit: %v", err)
			}
			m.checkGone(t)
		})
	}
}

// TestAdminOffByDefault checks that without -admin the master serves
// nothing, and the app's address has no monitoring routes.
func TestAdminOffByDefault(t *testing.T) {
	m := start(t, "reuseport", "-"+contract.FlagAdmin, "") // "": the default, off
	if adminRE.MatchString(m.out.String()) {
		t.Errorf("the master serves an admin address without -%s", contract.FlagAdmin)
	}
	if ports := listeningPorts(t, m.cmd.Process.Pid); len(ports) != 1 {
		t.Errorf("the master listens on TCP ports %v (hex), want only the app's", ports)
	}
	for _, path := range []string{contract.PathWorkers, contract.PathMetrics, contract.PathPprof} {
		resp, err := http.Get("http://" + m.addr + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s on the app's address: status %d, want 404", path, resp.StatusCode)
		}
	}
}

// listeningPorts is the set of TCP ports pid listens on, read from /proc:
// the inodes of its socket descriptors, matched in /proc/net/tcp{,6}.
func listeningPorts(t *testing.T, pid int) map[string]bool {
	t.Helper()
	fdDir := fmt.Sprintf("/proc/%d/fd", pid)
	ents, err := os.ReadDir(fdDir)
	if err != nil {
		t.Fatal(err)
	}
	inodes := map[string]bool{}
	for _, e := range ents {
		link, err := os.Readlink(filepath.Join(fdDir, e.Name()))
		if err == nil && strings.HasPrefix(link, "socket:[") {
			inodes[strings.TrimSuffix(strings.TrimPrefix(link, "socket:["), "]")] = true
		}
	}
	ports := map[string]bool{}
	for _, table := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		b, err := os.ReadFile(table)
		if err != nil {
			continue // no IPv6
		}
		for line := range strings.SplitSeq(string(b), "\n") {
			// sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
			f := strings.Fields(line)
			const listen = "0A"
			if len(f) < 10 || f[3] != listen || !inodes[f[9]] {
				continue
			}
			if i := strings.LastIndexByte(f[1], ':'); i >= 0 {
				ports[f[1][i+1:]] = true
			}
		}
	}
	return ports
}

// TestAdminBeyondLoopbackNeedsToken: -admin on every interface without a
// token stops the master before it starts a worker, with one line naming
// the flag; a token too short is refused the same way.
func TestAdminBeyondLoopbackNeedsToken(t *testing.T) {
	short := filepath.Join(t.TempDir(), "short")
	if err := os.WriteFile(short, []byte("abc\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, args := range map[string][]string{
		"no token":    {"-" + contract.FlagAdmin, "0.0.0.0:0"},
		"empty host":  {"-" + contract.FlagAdmin, ":0"},
		"short token": {"-" + contract.FlagAdmin, "0.0.0.0:0", "-" + contract.FlagAdminTokenFile, short},
	} {
		t.Run(name, func(t *testing.T) {
			m := launch(t, append([]string{"-workers", "1", "-addr", "127.0.0.1:0", "-image", image}, args...)...)
			out := m.failure(t)
			if strings.Contains(out, "\n") || !strings.HasPrefix(out, "clustered: ") || !strings.Contains(out, contract.FlagAdminTokenFile) {
				t.Errorf("output %q: want one line naming -%s", out, contract.FlagAdminTokenFile)
			}
			if len(m.workerPIDs()) != 0 {
				t.Errorf("workers started: %v", m.workerPIDs())
			}
		})
	}
}

// failure waits for the master to exit and fails t unless it failed; it
// returns the master's output.
func (m *master) failure(t *testing.T) string {
	t.Helper()
	testproc.WaitFor(t, 30*time.Second, "the master to exit", func() bool {
		select {
		case <-m.exited:
			return true
		default:
			return false
		}
	})
	if m.err == nil {
		t.Fatal("exit 0, want a failure")
	}
	return strings.TrimSpace(m.out.String())
}

// TestAdminToken: with a token, every admin route (pprof included, and
// paths that do not exist) answers 401 without it or with a wrong one, and
// /metrics scrapes with Authorization: Bearer as Prometheus sends it.
func TestAdminToken(t *testing.T) {
	const token = "s3cret-token-of-32-characters-xx"
	file := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(file, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	m := start(t, "reuseport", "-"+contract.FlagAdmin, "0.0.0.0:0", "-"+contract.FlagAdminTokenFile, file)
	_, port, err := net.SplitHostPort(m.adminAddr(t))
	if err != nil {
		t.Fatal(err)
	}
	base := "http://127.0.0.1:" + port
	get := func(path, auth string) int {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, base+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, path := range []string{contract.PathWorkers, contract.PathMetrics, contract.PathPprof,
		contract.PathPprof + "heap", contract.PathPprof + "goroutine?debug=2", contract.PathPprof + "cmdline", "/nope"} {
		for _, auth := range []string{"", "Bearer", "Bearer " + token[:len(token)-1], "Bearer " + token + "x", "Basic " + token, token} {
			if got := get(path, auth); got != http.StatusUnauthorized {
				t.Errorf("GET %s with Authorization %q: status %d, want 401", path, auth, got)
			}
		}
	}
	for _, path := range []string{contract.PathWorkers, contract.PathMetrics, contract.PathPprof, contract.PathPprof + "heap"} {
		if got := get(path, "Bearer "+token); got != http.StatusOK {
			t.Errorf("GET %s with the token: status %d, want 200", path, got)
		}
	}
	fams := testproc.ScrapeWith(t, base+contract.PathMetrics, http.Header{"Authorization": {"Bearer " + token}})
	if f := fams[monitor.MetricJobsDone]; f == nil || len(f.GetMetric()) != 2 {
		t.Errorf("%s with the token: %v, want 2 series", monitor.MetricJobsDone, f)
	}
	if _, err := m.stop(t, syscall.SIGTERM); err != nil {
		t.Errorf("master exit: %v", err)
	}
}

// jobCounts is each worker index's flipbench_job_duration_seconds count
// in fams.
func jobCounts(fams map[string]*dto.MetricFamily) map[string]uint64 {
	out := map[string]uint64{}
	for _, m := range fams[monitor.MetricJobDuration].GetMetric() {
		out[testproc.Label(m, monitor.LabelWorker)] += m.GetHistogram().GetSampleCount()
	}
	return out
}

func sum(counts map[string]uint64) uint64 {
	var n uint64
	for _, c := range counts {
		n += c
	}
	return n
}

// TestAdminHistograms checks the cluster's histograms on the admin
// /metrics: per worker index, one observation per job, buckets that
// promtool takes, and counts that a killed and restarted worker does not
// make go down.
func TestAdminHistograms(t *testing.T) {
	m := start(t, "reuseport")
	url := "http://" + m.admin + contract.PathMetrics
	c := newClient()
	flips := func(n int) {
		for range n {
			if _, err := c.flip(m.addr); err != nil {
				t.Fatal(err)
			}
		}
	}
	// reached scrapes until the workers have reported want jobs in all.
	reached := func(want uint64) ([]byte, map[string]*dto.MetricFamily) {
		var text []byte
		var fams map[string]*dto.MetricFamily
		testproc.WaitFor(t, 10*time.Second, fmt.Sprintf("%d jobs in %s", want, monitor.MetricJobDuration), func() bool {
			text = testproc.Fetch(t, url, nil)
			fams = testproc.Parse(t, text)
			return sum(jobCounts(fams)) >= want
		})
		return text, fams
	}

	const first = 4
	flips(first)
	text, fams := reached(first)
	monitortest.Check(t, fams,
		monitortest.Want{Name: monitor.MetricRequestDuration, Labels: map[string]string{monitor.LabelRoute: contract.PathFlip, monitor.LabelCode: "200"}, Count: first},
		monitortest.Want{Name: monitor.MetricJobDuration, Count: first},
		monitortest.Want{Name: monitor.MetricQueueWait, Count: first},
	)
	for _, s := range fams[monitor.MetricJobDuration].GetMetric() {
		if w := testproc.Label(s, monitor.LabelWorker); w != "0" && w != "1" {
			t.Errorf("%s has worker label %q, want an index", monitor.MetricJobDuration, w)
		}
	}
	before := jobCounts(fams)

	// Kill the index that ran the most jobs: its count must not drop.
	victim, pid := "0", 0
	if before["1"] > before["0"] {
		victim = "1"
	}
	for _, w := range workers(t, m.admin).Workers {
		if strconv.Itoa(w.Worker) == victim {
			pid = w.PID
		}
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitWorkers(t, m.admin, 2, []int{pid})
	after := jobCounts(testproc.Scrape(t, url))
	for idx, n := range before {
		if after[idx] < n {
			t.Errorf("worker %s's job count went from %d to %d across its restart", idx, n, after[idx])
		}
	}
	const second = 4
	flips(second)
	_, fams = reached(first + second)
	if got := sum(jobCounts(fams)); got != first+second {
		t.Errorf("after the restart and %d more jobs the workers count %d, want %d", second, got, first+second)
	}
	monitortest.Promtool(t, text)
}
