package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/flipbench/flipbench/server/servertest"

	"github.com/flipbench/flipbench/internal/testproc"
)

// envRunLoadtest makes the test binary run as the loadtest command.
const envRunLoadtest = "FLIPBENCH_TEST_RUN_LOADTEST"

// A loadtest bench killed with SIGKILL mid-burst, which can clean up nothing,
// leaves no server running: the kernel kills it (Pdeathsig).
func TestBenchKilledLeavesNoServer(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin, img := servertest.LinkBin(t), servertest.Photo(t)
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
	testproc.WaitFor(t, 20*time.Second, "the bench's server", func() bool {
		select {
		case <-exited:
			t.Fatal("bench exited before its server started")
		default:
		}
		b, _ := os.ReadFile(filepath.Join(out, "standard", "server.log"))
		if m := pidRE.FindSubmatch(b); m != nil {
			server, _ = strconv.Atoi(string(m[1]))
		}
		return server != 0
	})
	// Time, not an event: the kill should land anywhere in the warm-up or
	// the burst, which the bench does not announce.
	time.Sleep(500 * time.Millisecond)
	if !testproc.Alive(server) {
		t.Fatalf("server %d is not running before the kill", server)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-exited
	if !testproc.Poll(10*time.Second, func() bool { return !testproc.Alive(server) }) {
		_ = syscall.Kill(server, syscall.SIGKILL)
		t.Fatalf("server %d still running 10 s after its bench was killed", server)
	}
}
