// Package testproc helps tests that run the project's own binaries: build
// one once, and wait for what a running process does.
package testproc

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Build builds the main package in dir (e.g. ".") with the build tags into
// a new temp dir as name, and returns its path and a function that removes the temp dir.
// For TestMain, before m.Run.
func Build(dir, name string, tags ...string) (path string, cleanup func(), err error) {
	tmp, err := os.MkdirTemp("", name+"-test")
	if err != nil {
		return "", nil, fmt.Errorf("temp dir for %s: %w", name, err)
	}
	path = filepath.Join(tmp, name)
	args := []string{"build", "-o", path}
	if len(tags) > 0 {
		args = append(args, "-tags", strings.Join(tags, ","))
	}
	build := exec.Command("go", append(args, dir)...)
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		os.RemoveAll(tmp)
		return "", nil, fmt.Errorf("build %s: %w", name, err)
	}
	return path, func() { os.RemoveAll(tmp) }, nil
}

// WaitFor polls cond every 10 ms until it holds, and fails t if d passes
// first. Tests wait on what happens (a process state, a log line, a
// counter, /workers), never on a guess of how long it takes: d is only
// the bound past which something is wrong.
func WaitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	if !Poll(d, cond) {
		t.Fatalf("timed out after %v waiting for %s", d, what)
	}
}

// Poll polls cond every 10 ms until it holds, or until d has passed; it
// reports whether cond held. For waits whose timeout is not a failure,
// e.g. in a cleanup that kills what is left.
func Poll(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
	return true
}

// Main is a TestMain that builds the main package in dir as name into
// *bin, runs the tests and removes the binary; it returns the exit code.
func Main(m *testing.M, dir, name string, bin *string) int {
	path, cleanup, err := Build(dir, name)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer cleanup()
	*bin = path
	return m.Run()
}

// State is the state letter of process pid from /proc (R, S, D, T, Z...),
// 0 if there is no such process.
func State(pid int) byte {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')') // the command may hold spaces and parentheses
	if i < 0 || i+2 >= len(s) {
		return '?'
	}
	return s[i+2]
}

// Alive reports whether process pid exists and is not a zombie.
func Alive(pid int) bool {
	st := State(pid)
	return st != 0 && st != 'Z'
}

// Ignores reports whether process pid ignores sig (its SigIgn mask in
// /proc): the kernel then discards sig when it is sent, so a test knows at
// once that sig cannot kill pid, without waiting to see.
func Ignores(pid int, sig syscall.Signal) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return false
	}
	for line := range strings.Lines(string(b)) {
		if hex, ok := strings.CutPrefix(line, "SigIgn:"); ok {
			mask, err := strconv.ParseUint(strings.TrimSpace(hex), 16, 64)
			return err == nil && mask&(1<<(uint(sig)-1)) != 0
		}
	}
	return false
}
