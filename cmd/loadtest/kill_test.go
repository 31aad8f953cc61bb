package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/flipbench/flipbench/internal/fakeserver"
)

// envRunLoadtest makes the test binary run as the loadtest command.
const envRunLoadtest = "FLIPBENCH_TEST_RUN_LOADTEST"

// alive reports whether pid is a live process (not a zombie).
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	rest := string(b)
	if i := strings.LastIndexByte(rest, ')'); i >= 0 {
		rest = rest[i+1:]
	}
	f := strings.Fields(rest)
	return len(f) > 0 && f[0] != "Z" && f[0] != "X"
}

// A loadtest bench killed with SIGKILL mid-burst, which can clean up nothing,
// leaves no server running: the kernel kills it (Pdeathsig).
func TestBenchKilledLeavesNoServer(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin, img := fakeserver.LinkBin(t), fakeserver.Photo(t)
	out := filepath.Join(t.TempDir(), "run")
	cmd := exec.Command(exe, "bench", "-bin", bin, "-image", img, "-out", out,
		"-modes", "standard", "-levels", "100", "-warmups", "1", "-progress", "off")
	cmd.Env = append(os.Environ(), envRunLoadtest+"=1", "FAKESERVER_DELAY=100ms")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	defer func() { _ = cmd.Process.Kill() }()

	// The fake server logs "listening on ADDR (pid N)"; wait for the burst.
	pidRE := regexp.MustCompile(`\(pid (\d+)\)`)
	var server int
	for deadline := time.Now().Add(20 * time.Second); server == 0; {
		b, _ := os.ReadFile(filepath.Join(out, "standard", "server.log"))
		if m := pidRE.FindSubmatch(b); m != nil {
			server, _ = strconv.Atoi(string(m[1]))
			break
		}
		select {
		case <-exited:
			t.Fatal("bench exited before its server started")
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("no server started in 20 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond) // into the warm-up or the burst
	if !alive(server) {
		t.Fatalf("server %d is not running before the kill", server)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-exited
	for deadline := time.Now().Add(10 * time.Second); alive(server); {
		if time.Now().After(deadline) {
			_ = syscall.Kill(server, syscall.SIGKILL)
			t.Fatalf("server %d still running 10 s after its bench was killed", server)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
