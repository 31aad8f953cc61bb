package deploy

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/flipbench/flipbench/contract"
	"github.com/flipbench/flipbench/internal/monitor"
	"github.com/flipbench/flipbench/internal/procfs"
	"github.com/flipbench/flipbench/internal/promhist"
	"github.com/flipbench/flipbench/internal/promtest"
	"github.com/flipbench/flipbench/internal/syncbuf"
	"github.com/flipbench/flipbench/internal/testproc"
)

// flipsPerServer is the load each server gets before the queries: enough
// for rates and quantiles, little enough for 2 shared cores.
const flipsPerServer = 6

// externalNames come from outside flipbench (the NATS exporter), which
// this test does not run: queries on them may be empty.
var externalNames = []string{"jetstream_consumer_num_pending"}

var (
	photo   = filepath.Join("..", "testdata", "photo-1mp.jpg")
	adminRE = regexp.MustCompile(`msg="admin serving" .*admin_addr=(\S+)`)
)

// server is a flipbench server the test started, and where Prometheus
// scrapes it.
type server struct {
	job, mode string // the scrape job and mode label, as deploy/prometheus.yml has them
	addr      string // where POST /flip goes
	metrics   string // where Prometheus scrapes
	token     bool   // the scrape needs the admin token
}

// TestDashboardOnRealPrometheus scrapes real servers (standard, the shared
// cluster through its token-protected admin address, the queued front and
// the Node cluster where node is installed) with a real Prometheus every
// second, loaded with deploy/alerts.yml, puts a load on them, and evaluates
// every dashboard query through Prometheus's HTTP API.
func TestDashboardOnRealPrometheus(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: builds and runs servers and Prometheus")
	}
	if _, err := exec.LookPath("prometheus"); err != nil {
		t.Skip("no prometheus on PATH (Debian: apt-get install prometheus): the real-Prometheus test cannot run")
	}
	alerts, err := os.ReadFile("alerts.yml")
	if err != nil {
		t.Fatal(err)
	}
	qs, err := DashboardQueries(DashboardFile)
	if err != nil {
		t.Fatal(err)
	}

	tmp := t.TempDir()
	const token = "prometheus-test-token"
	tokenFile := filepath.Join(tmp, "admin-token")
	if err := os.WriteFile(tokenFile, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	servers := []server{
		startStandard(t, tmp),
		startShared(t, tmp, tokenFile),
		startQueued(t, tmp),
	}
	if s, ok := startNodeCluster(t, tmp); ok {
		servers = append(servers, s)
	}

	prom := promtest.Start(t, scrapeConfig(servers), map[string]string{
		"alerts.yml":            string(alerts),
		"flipbench-admin-token": token + "\n",
	})
	prom.WaitVector(t, 60*time.Second, fmt.Sprintf(`count(up == 1) == %d`, len(servers)))
	// Every server's request series is scraped at zero before the load, so
	// that an increase over the window sees the whole load.
	prom.WaitVector(t, 60*time.Second, fmt.Sprintf(`count(count by (mode) (flipbench_http_request_duration_seconds_count{route="/flip"} == 0)) == %d`, len(servers)))

	var wg sync.WaitGroup
	answered := make([][]time.Duration, len(servers))
	for i, s := range servers {
		wg.Go(func() { answered[i] = load(t, s.addr) })
	}
	wg.Wait()
	// Prometheus has scraped every server after its load: rates over the
	// last minute now span it.
	var modes []string
	for _, s := range servers {
		modes = append(modes, s.mode)
	}
	prom.WaitVector(t, 30*time.Second, fmt.Sprintf(`count(sum by (mode) (flipbench_jobs_done_total{mode=~%q}) >= %d) == %d`,
		strings.Join(modes, "|"), flipsPerServer, len(modes)))
	// A rate needs two samples of a series, and the request histogram's
	// series are born with the load: wait until every one has them.
	prom.WaitVector(t, 30*time.Second, fmt.Sprintf(`count(min by (mode) (count_over_time(flipbench_http_request_duration_seconds_count{route="/flip", mode=~%q}[1m])) >= 2) == %d`,
		strings.Join(modes, "|"), len(modes)))

	served := servedNames(t, prom)
	for i, s := range servers {
		checkP99(t, prom, s, answered[i])
		checkMetricsLint(t, s, token)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var empty []string
	for _, q := range qs {
		vec, err := prom.Vector(ctx, q.Expr)
		if err != nil {
			t.Errorf("%s: %v", q, err)
			continue
		}
		if len(vec) > 0 {
			continue
		}
		var missing []string
		for _, n := range MetricNames(q.Expr) {
			if !served[n] {
				missing = append(missing, n)
			}
		}
		mayBeEmpty := len(missing) > 0
		for _, n := range missing {
			mayBeEmpty = mayBeEmpty && slices.Contains(externalNames, n)
		}
		if !mayBeEmpty {
			t.Errorf("%s is empty after the load (not served: %v): %s", q, missing, q.Expr)
			continue
		}
		empty = append(empty, fmt.Sprintf("%s (not served yet: %s)", q, strings.Join(missing, ", ")))
	}
	t.Logf("%d queries evaluated, %d empty for want of series:\n  %s", len(qs), len(empty), strings.Join(empty, "\n  "))
}

// scrapeConfig is deploy/prometheus.yml's setup for the test's servers:
// the same jobs, mode labels and bearer-token file, scraped every second.
func scrapeConfig(servers []server) string {
	var b strings.Builder
	b.WriteString("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files: [alerts.yml]\nscrape_configs:\n")
	for _, s := range servers {
		fmt.Fprintf(&b, "  - job_name: %s\n", s.job)
		if s.token {
			b.WriteString("    authorization: {credentials_file: flipbench-admin-token}\n")
		}
		fmt.Fprintf(&b, "    static_configs: [{targets: [%q], labels: {mode: %q}}]\n", s.metrics, s.mode)
	}
	return b.String()
}

// servedNames is the set of flipbench and NATS series names Prometheus holds.
func servedNames(t *testing.T, prom *promtest.Prometheus) map[string]bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	vec, err := prom.Vector(ctx, `count by (__name__) ({__name__=~"flipbench_.+|jetstream_.+"})`)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, s := range vec {
		names[string(s.Metric["__name__"])] = true
	}
	return names
}

// load sends flipsPerServer POST /flip to addr, two at a time, and one
// GET of / and /healthz; it returns the flips' X-Response-Time, the time
// each server says it took.
func load(t *testing.T, addr string) []time.Duration {
	c := &http.Client{Timeout: 2 * time.Minute}
	var mu sync.Mutex
	var took []time.Duration
	do := func(method, path string) {
		req, err := http.NewRequest(method, "http://"+addr+path, nil)
		if err != nil {
			t.Error(err)
			return
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Errorf("%s %s%s: %v", method, addr, path, err)
			return
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s %s%s: status %d", method, addr, path, resp.StatusCode)
			return
		}
		if path != contract.PathFlip {
			return
		}
		d, err := time.ParseDuration(resp.Header.Get(contract.HeaderResponseTime))
		if err != nil {
			t.Errorf("POST %s%s: %s: %v", addr, path, contract.HeaderResponseTime, err)
			return
		}
		mu.Lock()
		took = append(took, d)
		mu.Unlock()
	}
	do(http.MethodGet, contract.PathPID)
	do(http.MethodGet, contract.PathHealth)
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			for range flipsPerServer / 2 {
				do(http.MethodPost, contract.PathFlip)
			}
		})
	}
	wg.Wait()
	return took
}

// checkP99 compares the p99 of POST /flip that Prometheus computes from
// s's request histogram with the p99 of the times s sent in its answers:
// both must fall in the same bucket or in neighbouring ones (the histogram
// only knows the bucket; it interpolates within it).
func checkP99(t *testing.T, prom *promtest.Prometheus, s server, took []time.Duration) {
	t.Helper()
	if len(took) == 0 {
		return // load has failed t already
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	vec, err := prom.Vector(ctx, fmt.Sprintf(`histogram_quantile(0.99, sum by (le) (increase(flipbench_http_request_duration_seconds_bucket{mode=%q, route="/flip"}[10m])))`, s.mode))
	if err != nil {
		t.Fatal(err)
	}
	if len(vec) == 0 {
		t.Errorf("%s: no request histogram after the load", s.mode)
		return
	}
	slices.Sort(took)
	rank := int(math.Ceil(0.99*float64(len(took)))) - 1 // nearest rank
	own := took[rank].Seconds()
	est := float64(vec[0].Value)
	if d := bucketOf(est) - bucketOf(own); d < -1 || d > 1 {
		t.Errorf("%s: p99 of POST /flip from the histogram %.3fs (bucket %d), from %d answers' %s %.3fs (bucket %d): more than one bucket apart",
			s.mode, est, bucketOf(est), len(took), contract.HeaderResponseTime, own, bucketOf(own))
	}
	t.Logf("%s: p99 of POST /flip: histogram %.3fs, answers %.3fs", s.mode, est, own)
}

// checkMetricsLint runs promtool check metrics (Prometheus's naming and
// type conventions) on what s serves.
func checkMetricsLint(t *testing.T, s server, token string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, "http://"+s.metrics+contract.PathMetrics, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.token {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		t.Errorf("%s: GET /metrics: %v", s.mode, err)
		return
	}
	defer resp.Body.Close()
	cmd := exec.Command(promtool(t), "check", "metrics")
	cmd.Stdin = resp.Body
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("%s: promtool check metrics: %v\n%s", s.mode, err, out)
	}
}

// bucketOf is the index of the servers' histogram bucket holding v
// seconds; len(monitor.Buckets()) is +Inf.
func bucketOf(v float64) int {
	return promhist.Histogram{Bounds: monitor.Buckets()}.BucketOf(v)
}

// buildBinary builds ../cmd/name once per test into a temp dir.
func buildBinary(t *testing.T, name string) string {
	t.Helper()
	path, cleanup, err := testproc.Build(filepath.Join("..", "cmd", name), name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cleanup)
	return path
}

// run starts argv in its own process group; cleanup kills it and every
// member of its group (a cluster's workers) by PID.
func run(t *testing.T, argv ...string) *syncbuf.Buffer {
	t.Helper()
	out := &syncbuf.Buffer{}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		members := procfs.GroupMembers(cmd.Process.Pid)
		cmd.Process.Kill()
		<-exited
		for _, pid := range members {
			syscall.Kill(pid, syscall.SIGKILL)
		}
		for _, pid := range members {
			if !testproc.Poll(5*time.Second, func() bool { return !testproc.Alive(pid) }) {
				t.Errorf("process %d of %s outlived the test", pid, filepath.Base(argv[0]))
			}
		}
		if t.Failed() {
			t.Logf("output of %s:\n%s", filepath.Base(argv[0]), out)
		}
	})
	return out
}

// waitAddr waits for the address a server writes to addrFile.
func waitAddr(t *testing.T, addrFile string) string {
	t.Helper()
	var addr string
	testproc.WaitFor(t, 60*time.Second, "the address in "+addrFile, func() bool {
		var err error
		addr, err = contract.ReadAddrFile(addrFile)
		return err == nil
	})
	return addr
}

// serverDirs makes a server's -tmpdir and the path of its -addr-file.
func serverDirs(t *testing.T, tmp, name string) (tmpdir, addrFile string) {
	t.Helper()
	dir := filepath.Join(tmp, name)
	tmpdir = filepath.Join(dir, "tmp")
	if err := os.MkdirAll(tmpdir, 0o700); err != nil {
		t.Fatal(err)
	}
	return tmpdir, filepath.Join(dir, "addr")
}

func startStandard(t *testing.T, tmp string) server {
	tmpdir, addrFile := serverDirs(t, tmp, "standard")
	run(t, buildBinary(t, "standard"), contract.Arg(contract.FlagAddr, "127.0.0.1:0"), contract.Arg(contract.FlagAddrFile, addrFile),
		contract.Arg(contract.FlagImage, photo), contract.Arg(contract.FlagTempDir, tmpdir))
	addr := waitAddr(t, addrFile)
	return server{job: "standard", mode: "standard", addr: addr, metrics: addr}
}

func startShared(t *testing.T, tmp, tokenFile string) server {
	tmpdir, addrFile := serverDirs(t, tmp, "clustered")
	out := run(t, buildBinary(t, "clustered"), contract.Arg(contract.FlagWorkers, "2"), contract.Arg(contract.FlagBalance, "shared"),
		contract.Arg(contract.FlagAddr, "127.0.0.1:0"), contract.Arg(contract.FlagAddrFile, addrFile),
		contract.Arg(contract.FlagAdmin, "127.0.0.1:0"), contract.Arg(contract.FlagAdminTokenFile, tokenFile),
		contract.Arg(contract.FlagImage, photo), contract.Arg(contract.FlagTempDir, tmpdir))
	addr := waitAddr(t, addrFile)
	var admin string
	testproc.WaitFor(t, 30*time.Second, "the admin address in the log", func() bool {
		m := adminRE.FindStringSubmatch(out.String())
		if m != nil {
			admin = m[1]
		}
		return m != nil
	})
	return server{job: "clustered", mode: "shared", addr: addr, metrics: admin, token: true}
}

func startQueued(t *testing.T, tmp string) server {
	tmpdir, addrFile := serverDirs(t, tmp, "queued")
	run(t, buildBinary(t, "queued"), contract.Arg(contract.FlagWorkers, "1"),
		contract.Arg(contract.FlagAddr, "127.0.0.1:0"), contract.Arg(contract.FlagAddrFile, addrFile),
		contract.Arg(contract.FlagImage, photo), contract.Arg(contract.FlagTempDir, tmpdir))
	addr := waitAddr(t, addrFile)
	// The front answers before its worker has joined: wait for a job slot.
	testproc.WaitFor(t, 60*time.Second, "the queued worker online", func() bool {
		resp, err := http.Get("http://" + addr + contract.PathHealth)
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		var h contract.Health
		return json.NewDecoder(resp.Body).Decode(&h) == nil && h.Capacity >= 1
	})
	return server{job: "queued", mode: "queued", addr: addr, metrics: addr}
}

// startNodeCluster starts the Node app's cluster with 2 workers, if node
// and the app's modules are installed; otherwise it says why not.
func startNodeCluster(t *testing.T, tmp string) (server, bool) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Log("no node on PATH: the Node app is left out")
		return server{}, false
	}
	app := filepath.Join("..", "nodeapp")
	if _, err := os.Stat(filepath.Join(app, "node_modules", "prom-client")); err != nil {
		t.Log("nodeapp's modules are not installed (make build): the Node app is left out")
		return server{}, false
	}
	tmpdir, addrFile := serverDirs(t, tmp, "node")
	run(t, node, filepath.Join(app, "cluster.js"), contract.Arg(contract.FlagWorkers, "2"),
		contract.Arg(contract.FlagAddr, "127.0.0.1:0"), contract.Arg(contract.FlagAddrFile, addrFile),
		contract.Arg(contract.FlagImage, photo), contract.Arg(contract.FlagTempDir, tmpdir))
	addr := waitAddr(t, addrFile)
	return server{job: "node", mode: "node-cluster", addr: addr, metrics: addr}, true
}
