package main

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/flipbench/flipbench/contract"
	"github.com/flipbench/flipbench/internal/testproc"
)

// alive is whether process pid exists and is not a zombie.
func alive(pid int) bool {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return false
	}
	// The state follows the command name in parentheses.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}

// workDirs lists the flipbench-<pid> dirs under dir.
func workDirs(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "flipbench-*"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestKillFrontLeavesNothing: kill -9 of a front mid-burst leaves no local
// worker after 2 s (the bound), and the next front on the same
// -tmpdir removes the work dirs and the NATS store the dead ones left.
func TestKillFrontLeavesNothing(t *testing.T) {
	tmp := t.TempDir()
	// A dir of a process that is gone, as a crash before this test leaves it.
	gone := exec.Command("true")
	if err := gone.Run(); err != nil {
		t.Fatal(err)
	}
	stale := filepath.Join(tmp, "flipbench-"+strconv.Itoa(gone.Process.Pid))
	if err := os.MkdirAll(filepath.Join(stale, "nats-1"), 0o700); err != nil {
		t.Fatal(err)
	}

	args := []string{contract.Arg(contract.FlagWorkers, "2"), contract.Arg(contract.FlagTempDir, tmp)}
	p, base := front(t, 2, args...)
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("the work dir of a dead process is still there: %v", err)
	}
	workers := p.workerPIDs()
	go burst(6, func() answer { return do(t.Context(), http.MethodPost, base+contract.PathFlip, "", nil) })
	testproc.WaitFor(t, 10*time.Second, "jobs running", func() bool {
		h, err := health(base)
		return err == nil && h.InFlight >= 1
	})
	killed := time.Now()
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-p.exited
	for _, pid := range workers {
		for alive(pid) {
			if time.Since(killed) > 2*time.Second {
				t.Fatalf("local worker %d still runs 2s after kill -9 of its front", pid)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	t.Logf("local workers gone %s after their front", time.Since(killed).Round(time.Millisecond))
	if len(workDirs(t, tmp)) == 0 {
		t.Fatal("kill -9 left no work dir: the test proves nothing")
	}

	next, _ := front(t, 2, args...)
	for _, d := range workDirs(t, tmp) {
		pid, _ := strconv.Atoi(strings.TrimPrefix(filepath.Base(d), "flipbench-"))
		if !alive(pid) {
			t.Errorf("after a restart, %s of a dead process is still there", d)
		}
	}
	next.stop(t)
}

// TestSIGHUPRollsWorkers: SIGHUP replaces every local worker while a burst
// runs, and no request fails.
func TestSIGHUPRollsWorkers(t *testing.T) {
	p, base := front(t, 2, contract.Arg(contract.FlagWorkers, "2"))
	before := p.workerPIDs()
	answers := make(chan []answer, 1)
	go func() {
		answers <- burst(20, func() answer { return do(t.Context(), http.MethodPost, base+contract.PathFlip, "", nil) })
	}()
	testproc.WaitFor(t, 10*time.Second, "jobs running", func() bool {
		h, err := health(base)
		return err == nil && h.InFlight >= 1
	})
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	for i, a := range <-answers {
		if a.err != nil || a.status != http.StatusOK {
			t.Errorf("request %d: status %d, err %v, body %s", i, a.status, a.err, a.body)
		}
	}
	testproc.WaitFor(t, 20*time.Second, "two replacement workers", func() bool { return len(p.workerPIDs()) >= 4 })
	testproc.WaitFor(t, 20*time.Second, "the old workers' exit", func() bool {
		return !alive(before[0]) && !alive(before[1])
	})
	for i, a := range burst(4, func() answer { return do(t.Context(), http.MethodPost, base+contract.PathFlip, "", nil) }) {
		if a.err != nil || a.status != http.StatusOK {
			t.Errorf("request %d after the roll: status %d, err %v", i, a.status, a.err)
		}
	}
	p.stop(t)
}
