package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/flipbench/flipbench/contract"
	"github.com/flipbench/flipbench/internal/testproc"
	"github.com/flipbench/flipbench/queue"
)

// natsServer is a nats-server binary at the version of the module the
// project embeds: $FLIPBENCH_NATS_SERVER (make build puts one in
// bin/nats-server), or built here from the module cache.
func natsServer(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("FLIPBENCH_NATS_SERVER"); p != "" {
		return p
	}
	out := filepath.Join(t.TempDir(), "nats-server")
	cmd := exec.Command("go", "build", "-o", out, "github.com/nats-io/nats-server/v2")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build nats-server: %v\n%s", err, b)
	}
	return out
}

// freePorts are n loopback ports free a moment ago.
func freePorts(t *testing.T, n int) []int {
	t.Helper()
	var ports []int
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports
}

// natsCluster is n nats-server nodes on loopback, each with JetStream (and
// with n > 1, routes to the others), and a user and password.
type natsCluster struct {
	nodes    []*proc
	urls     []string
	password string // a file
}

// url is the cluster's URL list.
func (c *natsCluster) url() string { return strings.Join(c.urls, ",") }

func startCluster(t *testing.T, n int) *natsCluster {
	t.Helper()
	return startNodes(t, freePorts(t, 2*n))
}

// startNodes starts len(ports)/2 nodes: client ports first, then route ports.
func startNodes(t *testing.T, ports []int) *natsCluster {
	t.Helper()
	n := len(ports) / 2
	exe := natsServer(t)
	dir := t.TempDir()
	c := &natsCluster{password: secretFile(t, "cluster-test-password-0123")}
	var routes []string
	for i := range n {
		routes = append(routes, fmt.Sprintf("nats://127.0.0.1:%d", ports[n+i]))
	}
	for i := range n {
		cluster := ""
		if n > 1 {
			cluster = fmt.Sprintf("cluster { name: flip, listen: 127.0.0.1:%d, routes: [%s] }", ports[n+i], strings.Join(routes, ", "))
		}
		conf := fmt.Sprintf(`server_name: n%d
listen: 127.0.0.1:%d
jetstream { store_dir: %q }
authorization { user: flip, password: "cluster-test-password-0123" }
%s
`, i, ports[i], filepath.Join(dir, fmt.Sprint("n", i)), cluster)
		file := filepath.Join(dir, fmt.Sprintf("n%d.conf", i))
		if err := os.WriteFile(file, []byte(conf), 0o600); err != nil {
			t.Fatal(err)
		}
		c.nodes = append(c.nodes, startProc(t, nil, exe, "-c", file))
		c.urls = append(c.urls, fmt.Sprintf("nats://127.0.0.1:%d", ports[i]))
	}
	return c
}

// auth is the front's and workers' flags for the cluster's credential.
func (c *natsCluster) auth() []string {
	return []string{contract.Arg(contract.FlagNATSUser, "flip"), contract.Arg(contract.FlagNATSPasswordFile, c.password)}
}

// streamLeader is the index of the node that leads the job stream.
func (c *natsCluster) streamLeader(t *testing.T) int {
	t.Helper()
	nc, err := nats.Connect(c.url(), nats.UserInfo("flip", "cluster-test-password-0123"))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	s, err := js.Stream(ctx, queue.StreamName)
	if err != nil {
		t.Fatal(err)
	}
	info := s.CachedInfo()
	if info.Cluster == nil || len(info.Cluster.Replicas) != 2 {
		t.Fatalf("stream %s is not on 3 nodes: %+v", queue.StreamName, info.Cluster)
	}
	var i int
	if _, err := fmt.Sscanf(info.Cluster.Leader, "n%d", &i); err != nil {
		t.Fatalf("stream leader %q: %v", info.Cluster.Leader, err)
	}
	return i
}

// TestClusterLeaderKilled: a front started with the cluster (it waits for
// its leader election) and -replicas 3 answers all of a burst of 30 though
// the stream's leader is killed mid-burst, and serves the next burst.
func TestClusterLeaderKilled(t *testing.T) {
	c := startCluster(t, 3)
	p, base := front(t, 2, append(c.auth(), contract.Arg(contract.FlagNATS, c.url()),
		contract.Arg(contract.FlagReplicas, "3"), contract.Arg(contract.FlagWorkers, "2"),
		contract.Arg(contract.FlagAckWait, "2s"))...)
	leader := c.streamLeader(t)

	ctx := t.Context()
	flip := func() answer { return do(ctx, http.MethodPost, base+contract.PathFlip, "", nil) }
	answers := make(chan []answer, 1)
	go func() { answers <- burst(30, flip) }()
	testproc.WaitFor(t, 20*time.Second, "jobs running", func() bool {
		h, err := health(base)
		return err == nil && h.InFlight >= 2
	})
	if err := syscall.Kill(c.nodes[leader].cmd.Process.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	t.Logf("killed node n%d, the stream's leader", leader)
	for i, a := range <-answers {
		if a.err != nil || a.status != http.StatusOK {
			t.Errorf("request %d of the first burst: status %d, err %v, body %s", i, a.status, a.err, a.body)
		}
	}
	for i, a := range burst(10, flip) {
		if a.err != nil || a.status != http.StatusOK {
			t.Errorf("request %d of the later burst: status %d, err %v, body %s", i, a.status, a.err, a.body)
		}
	}
	p.stop(t)
}

// TestFrontWaitsForBroker: a front and its local worker started before
// their broker wait for it, saying so, and serve once it is up; with no
// broker at all, the front gives up after -nats-wait with a reason.
func TestFrontWaitsForBroker(t *testing.T) {
	ports := freePorts(t, 2)
	url := fmt.Sprintf("nats://127.0.0.1:%d", ports[0])
	pw := secretFile(t, "cluster-test-password-0123")
	auth := []string{contract.Arg(contract.FlagNATSUser, "flip"), contract.Arg(contract.FlagNATSPasswordFile, pw)}

	var stdout, stderr bytes.Buffer
	code := run(t.Context(), append(auth, contract.Arg(contract.FlagAddr, "127.0.0.1:0"), contract.Arg(contract.FlagImage, photo),
		contract.Arg(contract.FlagWorkers, "0"), contract.Arg(contract.FlagNATS, url), contract.Arg(contract.FlagNATSWait, "1s")), &stdout, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), "gave up after") || !strings.Contains(stderr.String(), "waiting for the broker") {
		t.Errorf("no broker: exit %d, stderr %s; want 1, the waits logged and the reason", code, stderr.String())
	}

	addrFile := filepath.Join(t.TempDir(), "addr")
	p := launch(t, nil, append(auth, contract.Arg(contract.FlagAddr, "127.0.0.1:0"), contract.Arg(contract.FlagAddrFile, addrFile),
		contract.Arg(contract.FlagImage, photo), contract.Arg(contract.FlagWorkers, "1"), contract.Arg(contract.FlagNATS, url))...)
	testproc.WaitFor(t, 15*time.Second, "the front waiting for its broker", func() bool {
		return strings.Contains(p.out.String(), "waiting for the broker")
	})
	startNodes(t, ports)
	var base string
	testproc.WaitFor(t, 30*time.Second, "the front's address", func() bool {
		addr, err := contract.ReadAddrFile(addrFile)
		base = "http://" + addr
		return err == nil
	})
	waitCapacity(t, base, 1)
	if a := do(t.Context(), http.MethodPost, base+contract.PathFlip, "", nil); a.status != http.StatusOK {
		t.Errorf("a job once the broker is up: %d %s", a.status, a.body)
	}
	p.stop(t)
}

// TestFrontRestartAnswersItsJobs: jobs a front accepted with 202 on an
// external broker are all known, and finish, after that front is stopped
// with SIGTERM and started again.
func TestFrontRestartAnswersItsJobs(t *testing.T) {
	c := startCluster(t, 1)
	args := append(c.auth(), contract.Arg(contract.FlagNATS, c.url()), contract.Arg(contract.FlagWorkers, "1"))
	first, base := front(t, 1, args...)
	var ids []string
	for range 20 {
		ids = append(ids, submit(t, base, "", nil))
	}
	first.stop(t)
	_, base = front(t, 1, args...)
	for _, id := range ids {
		if _, st := pollJob(t, base, id, 30*time.Second); st.State != contract.JobDone {
			t.Errorf("job %s after the restart: %+v, want done", id, st)
		}
	}
}
