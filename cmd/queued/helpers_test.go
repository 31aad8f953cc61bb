package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/flipbench/flipbench/contract"
	"github.com/flipbench/flipbench/internal/procfs"
	"github.com/flipbench/flipbench/internal/syncbuf"
	"github.com/flipbench/flipbench/internal/testproc"
)

// bin is the queued binary, built once by TestMain.
var bin string

func TestMain(m *testing.M) { os.Exit(testproc.Main(m, ".", "queued", &bin)) }

var (
	photo    = filepath.Join("..", "..", "testdata", "photo-1mp.jpg")
	natsRE   = regexp.MustCompile(`msg="nats ready" .*url=(\S+)`)
	onlineRE = regexp.MustCompile(`msg="worker online" .*worker_pid=(\d+)`)
)

// proc is a queued process a test started, in its own process group so that
// its local workers can be found and stopped too.
type proc struct {
	cmd    *exec.Cmd
	out    *syncbuf.Buffer
	tmp    string
	exited chan struct{}
	err    error
}

// launch starts the binary with args (a fresh -tmpdir added unless args
// have one), wrapped in
// wrap (e.g. ip netns exec NS) when given. Cleanup stops the process and
// every member of its group by PID.
func launch(t *testing.T, wrap []string, args ...string) *proc {
	t.Helper()
	tmp := ""
	for _, a := range args {
		if v, ok := strings.CutPrefix(a, contract.Arg(contract.FlagTempDir, "")); ok {
			tmp = v
		}
	}
	if tmp == "" {
		tmp = t.TempDir()
		args = append(args, contract.Arg(contract.FlagTempDir, tmp))
	}
	argv := append(append(append([]string{}, wrap...), bin), args...)
	p := startProc(t, nil, argv...)
	p.tmp = tmp
	return p
}

// startProc starts argv with env added to this process's environment, in
// its own process group; cleanup kills it and every member of its group by
// PID.
func startProc(t *testing.T, env []string, argv ...string) *proc {
	t.Helper()
	args := argv[1:]
	p := &proc{out: &syncbuf.Buffer{}, exited: make(chan struct{})}
	p.cmd = exec.Command(argv[0], argv[1:]...)
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		pgid := p.cmd.Process.Pid
		members := procfs.GroupMembers(pgid)
		_ = p.cmd.Process.Kill()
		<-p.exited
		for _, pid := range members {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		if t.Failed() {
			t.Logf("output of %v:\n%s", args, p.out)
		}
	})
	return p
}

// front starts a front on a free loopback port and returns it with its
// base URL once /healthz reports at least minCapacity job slots.
func front(t *testing.T, minCapacity int, args ...string) (*proc, string) {
	t.Helper()
	addrFile := filepath.Join(t.TempDir(), "addr")
	p := launch(t, nil, append([]string{contract.Arg(contract.FlagAddr, "127.0.0.1:0"),
		contract.Arg(contract.FlagAddrFile, addrFile), contract.Arg(contract.FlagImage, photo)}, args...)...)
	var base string
	testproc.WaitFor(t, 15*time.Second, "the front's address", func() bool {
		addr, err := contract.ReadAddrFile(addrFile)
		base = "http://" + addr
		return err == nil
	})
	waitCapacity(t, base, minCapacity)
	return p, base
}

// waitCapacity waits until base's /healthz reports at least n job slots.
func waitCapacity(t *testing.T, base string, n int) contract.Health {
	t.Helper()
	var h contract.Health
	testproc.WaitFor(t, 15*time.Second, fmt.Sprintf("capacity %d", n), func() bool {
		var err error
		h, err = health(base)
		return err == nil && h.Capacity >= n
	})
	return h
}

func health(base string) (contract.Health, error) { return healthWith(http.DefaultClient, base) }

func healthWith(c *http.Client, base string) (contract.Health, error) {
	resp, err := c.Get(base + contract.PathHealth)
	if err != nil {
		return contract.Health{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return contract.Health{}, err
	}
	var h contract.Health
	return h, json.Unmarshal(body, &h)
}

// natsURL is the embedded NATS server's URL from the front's log.
func (p *proc) natsURL(t *testing.T) string {
	t.Helper()
	var url string
	testproc.WaitFor(t, 10*time.Second, "the nats url in the log", func() bool {
		m := natsRE.FindStringSubmatch(p.out.String())
		if m != nil {
			url = m[1]
		}
		return m != nil
	})
	return url
}

// workerPIDs lists every local worker the front reported online.
func (p *proc) workerPIDs() []int {
	var pids []int
	for _, s := range onlineRE.FindAllStringSubmatch(p.out.String(), -1) {
		pid, _ := strconv.Atoi(s[1])
		pids = append(pids, pid)
	}
	return pids
}

// stop sends SIGTERM and waits for a clean exit.
func (p *proc) stop(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.exited:
	case <-time.After(30 * time.Second):
		t.Fatal("no exit within 30s of SIGTERM")
	}
	if p.err != nil {
		t.Errorf("exit: %v", p.err)
	}
}

// answer is what a test keeps of one response.
type answer struct {
	status int
	pid    string
	header http.Header
	body   []byte
	err    error
}

// do sends one request on its own connection.
func do(ctx context.Context, method, url, ctype string, body []byte) answer {
	return doWith(ctx, newClient(nil), method, url, ctype, body)
}

// newClient is a client that opens a connection per request, with dial
// when given.
func newClient(dial func(ctx context.Context, network, addr string) (net.Conn, error)) *http.Client {
	return &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{DisableKeepAlives: true, DialContext: dial}}
}

// doWith sends one request with c.
func doWith(ctx context.Context, c *http.Client, method, url, ctype string, body []byte) answer {
	var r io.Reader
	if body != nil {
		r = strings.NewReader(string(body))
	}
	req, err := http.NewRequestWithContext(ctx, method, url, r)
	if err != nil {
		return answer{err: err}
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := c.Do(req)
	if err != nil {
		return answer{err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return answer{status: resp.StatusCode, pid: resp.Header.Get(contract.HeaderWorkerPID), header: resp.Header, body: b, err: err}
}

// burst sends n requests at once and returns their answers.
func burst(n int, send func() answer) []answer {
	out := make([]answer, n)
	done := make(chan struct{})
	for i := range n {
		go func() { out[i] = send(); done <- struct{}{} }()
	}
	for range n {
		<-done
	}
	return out
}
