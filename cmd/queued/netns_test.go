package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	neturl "net/url"

	"golang.org/x/sys/unix"

	"github.com/flipbench/flipbench/contract"
	"github.com/flipbench/flipbench/internal/testcert"
	"github.com/flipbench/flipbench/internal/testproc"
	"github.com/flipbench/flipbench/loadtest"
)

// hosts is a set of network namespaces standing for machines: a front with
// a veth link to each other host. Every address is inside the namespaces.
type hosts struct {
	t      *testing.T
	prefix string
}

// newHosts makes the namespaces or skips the test where it cannot.
func newHosts(t *testing.T) *hosts {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("network namespaces need root: skipping the multi-host test")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("no ip (iproute2) on the PATH: skipping the multi-host test (.ci/run installs it)")
	}
	h := &hosts{t: t, prefix: "fq" + strconv.Itoa(os.Getpid()%100000)}
	if out, err := exec.Command("ip", "netns", "add", h.ns("front")).CombinedOutput(); err != nil {
		t.Skipf("cannot make a network namespace here (%v: %s): skipping the multi-host test", err, strings.TrimSpace(string(out)))
	}
	t.Cleanup(func() { h.del("front") })
	h.ip("netns", "exec", h.ns("front"), "ip", "link", "set", "lo", "up")
	return h
}

func (h *hosts) ns(name string) string { return h.prefix + "-" + name }

// ip runs ip with args and fails the test on error.
func (h *hosts) ip(args ...string) {
	h.t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		h.t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

func (h *hosts) del(name string) {
	if out, err := exec.Command("ip", "netns", "delete", h.ns(name)).CombinedOutput(); err != nil {
		h.t.Logf("ip netns delete %s: %v: %s", h.ns(name), err, out)
	}
}

// add makes host name, linked to the front on subnet 10.231.<n>.0/24 (the
// front is .1, the host .2), and returns the front's address on that link.
func (h *hosts) add(name string, n int) string {
	h.t.Helper()
	h.ip("netns", "add", h.ns(name))
	h.t.Cleanup(func() { h.del(name) })
	front, peer := h.link(name)
	h.ip("link", "add", front, "netns", h.ns("front"), "type", "veth", "peer", "name", peer, "netns", h.ns(name))
	frontIP, hostIP := fmt.Sprintf("10.231.%d.1", n), fmt.Sprintf("10.231.%d.2", n)
	for _, c := range [][]string{
		{"-n", h.ns("front"), "addr", "add", frontIP + "/24", "dev", front},
		{"-n", h.ns("front"), "link", "set", front, "up"},
		{"-n", h.ns(name), "addr", "add", hostIP + "/24", "dev", peer},
		{"-n", h.ns(name), "link", "set", peer, "up"},
		{"-n", h.ns(name), "link", "set", "lo", "up"},
	} {
		h.ip(c...)
	}
	return frontIP
}

// link names the two ends of host name's link (at most 15 bytes each).
func (h *hosts) link(name string) (front, peer string) {
	return "vf" + name, "vh" + name
}

// cut takes host name off the network: its link is deleted.
func (h *hosts) cut(name string) {
	h.t.Helper()
	front, _ := h.link(name)
	h.ip("-n", h.ns("front"), "link", "del", front)
}

// exec is the prefix that runs a command on host name.
func (h *hosts) exec(name string) []string { return []string{"ip", "netns", "exec", h.ns(name)} }

// dialer dials from inside host name: the socket is made on an OS thread
// moved into its namespace, and the thread is dropped afterwards.
func (h *hosts) dialer(name string) func(ctx context.Context, network, addr string) (net.Conn, error) {
	path := filepath.Join("/var/run/netns", h.ns(name))
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		type result struct {
			c   net.Conn
			err error
		}
		ch := make(chan result, 1)
		go func() {
			// Never unlocked: the thread ends with the goroutine instead of
			// going back to the pool inside another namespace.
			runtime.LockOSThread()
			fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
			if err != nil {
				ch <- result{err: fmt.Errorf("open %s: %w", path, err)}
				return
			}
			defer unix.Close(fd)
			if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
				ch <- result{err: fmt.Errorf("setns %s: %w", path, err)}
				return
			}
			var d net.Dialer
			c, err := d.DialContext(ctx, network, addr)
			ch <- result{c, err}
		}()
		r := <-ch
		return r.c, r.err
	}
}

// TestMultiHost puts the front in one namespace, its broker with a password
// and TLS, and a worker in each of two others (a worker without the
// password is refused first), serves a burst from the remote workers, takes one worker host off
// the network mid-burst with nothing lost, and loads the front from a
// fourth namespace with loadtest attack -remote.
func TestMultiHost(t *testing.T) {
	h := newHosts(t)
	natsIP := map[string]string{"w1": h.add("w1", 1), "w2": h.add("w2", 2)}
	loadFrontIP := h.add("load", 3)

	// The broker as the README's recipe runs it: a password and TLS, its
	// certificate naming the addresses the worker hosts dial.
	certs := testcert.Write(t, natsIP["w1"], natsIP["w2"], "127.0.0.1")
	password := secretFile(t, "multi-host password")
	user, ca := contract.Arg(contract.FlagNATSUser, "flip"), contract.Arg(contract.FlagNATSCA, certs.CA)

	addrFile := filepath.Join(t.TempDir(), "addr")
	fr := launch(t, h.exec("front"), contract.Arg(contract.FlagAddr, "0.0.0.0:0"), contract.Arg(contract.FlagAddrFile, addrFile),
		contract.Arg(contract.FlagImage, photo), contract.Arg(contract.FlagWorkers, "0"),
		contract.Arg(contract.FlagNATSListen, "0.0.0.0:0"), contract.Arg(contract.FlagAckWait, "2s"),
		user, contract.Arg(contract.FlagNATSPasswordFile, password),
		contract.Arg(contract.FlagNATSCert, certs.Cert), contract.Arg(contract.FlagNATSKey, certs.Key), ca)
	var port string
	testproc.WaitFor(t, 15*time.Second, "the front's address", func() bool {
		addr, err := contract.ReadAddrFile(addrFile)
		if err == nil {
			_, port, err = net.SplitHostPort(addr)
		}
		return err == nil
	})
	natsURL, err := neturl.Parse(fr.natsURL(t))
	if err != nil {
		t.Fatal(err)
	}

	workerOn := func(name string, args ...string) *proc {
		return launch(t, h.exec(name), append([]string{contract.CommandWorker,
			contract.Arg(contract.FlagNATS, "tls://"+net.JoinHostPort(natsIP[name], natsURL.Port())),
			contract.Arg(contract.FlagImage, photo), contract.Arg(contract.FlagSlots, "1")}, args...)...)
	}
	// A worker host without the password cannot join.
	if out := workerOn("w1", ca).failed(t); !strings.Contains(out, "Authorization Violation") {
		t.Errorf("a remote worker without credentials: want an authorization violation, got:\n%s", out)
	}
	workers := map[string]*proc{}
	workers["w1"] = workerOn("w1", user, contract.Arg(contract.FlagNATSPasswordFile, password), ca)
	// w2 takes its password from the environment.
	t.Setenv(contract.EnvNATSPassword, "multi-host password")
	workers["w2"] = workerOn("w2", user, ca)
	pidOf := map[string]string{}
	for name, w := range workers {
		pidOf[strconv.Itoa(w.cmd.Process.Pid)] = name
	}

	client := newClient(h.dialer("load"))
	base := "http://" + net.JoinHostPort(loadFrontIP, port)
	testproc.WaitFor(t, 20*time.Second, "2 remote workers", func() bool {
		hl, err := healthWith(client, base)
		return err == nil && hl.Capacity == 2
	})

	ctx := t.Context()
	flip := func() answer { return doWith(ctx, client, http.MethodPost, base+contract.PathFlip, "", nil) }
	// hostsOf counts answers by the host whose worker gave them.
	hostsOf := func(as []answer) map[string]int {
		byHost := map[string]int{}
		for i, a := range as {
			if a.err != nil || a.status != http.StatusOK {
				t.Errorf("request %d: status %d, err %v, body %s", i, a.status, a.err, a.body)
				continue
			}
			host, ok := pidOf[a.pid]
			if !ok {
				t.Errorf("request %d: answered by pid %s, not a remote worker", i, a.pid)
			}
			byHost[host]++
		}
		return byHost
	}
	if byHost := hostsOf(burst(6, flip)); byHost["w1"] == 0 || byHost["w2"] == 0 {
		t.Errorf("a burst of 6: answers by host %v, want both remote workers to serve", byHost)
	} else {
		t.Logf("a burst of 6: answers by host %v", byHost)
	}

	answers := make(chan []answer, 1)
	go func() {
		answers <- burst(20, flip)
	}()
	testproc.WaitFor(t, 20*time.Second, "both workers running a job", func() bool {
		hl, err := healthWith(client, base)
		return err == nil && hl.InFlight >= 2
	})
	h.cut("w1")
	cut := time.Now()
	byHost := hostsOf(<-answers)
	t.Logf("a burst of 20, w1 cut off mid-burst: answers by host %v, the last %s after the cut", byHost, time.Since(cut).Round(time.Millisecond))

	// A load host of its own, through the driver's remote opt-in.
	lt := buildLoadtest(t)
	target := base + contract.PathFlip
	attack := func(args ...string) *exec.Cmd {
		argv := append(h.exec("load"), append([]string{lt, "attack", "-url", target}, args...)...)
		return exec.Command(argv[0], argv[1:]...)
	}
	if out, err := attack("-n", "2").CombinedOutput(); err == nil {
		t.Errorf("attack on %s without -remote succeeded: %s", target, out)
	}
	out, err := attack("-remote", "-n", "6", "-format", "json").Output()
	if err != nil {
		t.Fatalf("loadtest attack -remote: %v", err)
	}
	var m loadtest.Metrics
	if err := json.Unmarshal(out, &m); err != nil || m.Successes != 6 {
		t.Errorf("loadtest attack -remote from the load host: %+v, %v; want 6 of 6 ok", m, err)
	}
	for pid := range m.Workers {
		if pidOf[pid] != "w2" {
			t.Errorf("after the cut, pid %s answered; want only w2 (%v)", pid, m.Workers)
		}
	}
	workers["w2"].stop(t)
	fr.stop(t)
}

// buildLoadtest builds cmd/loadtest for the load host.
func buildLoadtest(t *testing.T) string {
	t.Helper()
	path, cleanup, err := testproc.Build("../loadtest", "loadtest")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cleanup)
	return path
}
