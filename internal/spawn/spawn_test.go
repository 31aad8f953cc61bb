package spawn

import (
	"errors"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/flipbench/flipbench/internal/testproc"
)

// init locks the main goroutine, which only waits for the tests, to the
// process's main thread (the runtime runs main on init's thread when init
// locks it), so no test goroutine lands there: that thread never ends, and a
// child started from it would never get its Pdeathsig.
func init() { runtime.LockOSThread() }

// TestMain makes the test binary a child that sleeps when envChild is set.
func TestMain(m *testing.M) {
	if os.Getenv(envChild) != "" {
		time.Sleep(time.Minute) // a child that lives until killed, bounded in case nothing kills it
		os.Exit(0)
	}
	os.Exit(m.Run())
}

const envChild = "SPAWN_TEST_CHILD"

// sleeper is a sleeping child process that gets SIGKILL when its parent
// thread dies.
type sleeper struct {
	cmd      *exec.Cmd
	exited   chan syscall.WaitStatus
	watching bool
}

// newSleeper prepares a sleeper; one that was started is killed by PID and
// reaped at cleanup.
func newSleeper(t *testing.T) *sleeper {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envChild+"=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	c := &sleeper{cmd: cmd, exited: make(chan syscall.WaitStatus, 1)}
	t.Cleanup(func() {
		if cmd.Process == nil {
			return
		}
		syscall.Kill(cmd.Process.Pid, syscall.SIGKILL)
		if c.watching {
			<-c.exited
		} else {
			cmd.Wait()
		}
	})
	return c
}

// watch reaps the started child in the background.
func (c *sleeper) watch() {
	c.watching = true
	go func() {
		c.cmd.Wait()
		c.exited <- c.cmd.ProcessState.Sys().(syscall.WaitStatus)
	}()
}

// exitedWithin reports the child's wait status if it exits within d; the
// status is kept for the cleanup.
func (c *sleeper) exitedWithin(d time.Duration) (syscall.WaitStatus, bool) {
	select {
	case ws := <-c.exited:
		c.exited <- ws
		return ws, true
	case <-time.After(d):
		return 0, false
	}
}

// startOnDyingThread calls start from a goroutine locked to its own thread,
// which ends when the goroutine returns; it returns once that thread is gone.
func startOnDyingThread(t *testing.T, start func() error) {
	t.Helper()
	tid := make(chan int, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread exits with the goroutine
		if err := start(); err != nil {
			t.Error(err)
		}
		tid <- unix.Gettid()
	}()
	id := <-tid
	if t.Failed() {
		t.FailNow()
	}
	if id == os.Getpid() {
		t.Fatal("the start ran on the main thread, which init should hold")
	}
	task := "/proc/self/task/" + strconv.Itoa(id)
	waitFor(t, "thread "+strconv.Itoa(id)+" to exit", func() bool {
		_, err := os.Stat(task)
		return errors.Is(err, os.ErrNotExist)
	})
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	testproc.WaitFor(t, 10*time.Second, what, cond)
}

// The premise: a child forked from a thread that exits gets its Pdeathsig
// although its parent process lives on.
func TestPdeathsigFollowsThread(t *testing.T) {
	c := newSleeper(t)
	startOnDyingThread(t, c.cmd.Start)
	c.watch()
	ws, ok := c.exitedWithin(10 * time.Second)
	if !ok || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("child started from an exited thread: exited %v, status %v; want killed", ok, ws)
	}
}

// A child started through the Spawner survives the thread that asked for it.
// (Whether Close then fires its Pdeathsig depends on the thread: the main
// thread never ends.)
func TestChildOutlivesCaller(t *testing.T) {
	s := New()
	defer s.Close()
	c := newSleeper(t)
	startOnDyingThread(t, func() error { return s.Start(c.cmd) })
	c.watch()
	if ws, ok := c.exitedWithin(300 * time.Millisecond); ok {
		t.Fatalf("child died with the caller's thread: %v", ws)
	}
}

func TestStartAfterClose(t *testing.T) {
	s := New()
	s.Close()
	s.Close() // a second Close is harmless
	c := newSleeper(t)
	if err := s.Start(c.cmd); !errors.Is(err, errClosed) {
		t.Fatalf("Start after Close: %v, want errClosed", err)
	}
	if c.cmd.Process != nil {
		t.Fatal("Start after Close started a process")
	}
}

func TestStartError(t *testing.T) {
	s := New()
	defer s.Close()
	if err := s.Start(exec.Command("/nonexistent/flipbench-spawn-test")); err == nil {
		t.Fatal("Start of a missing program succeeded")
	}
}
