// Package testproc helps tests that run the project's own binaries: build
// one once, and wait for what a running process does.
package testproc

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// Build builds the main package in dir (e.g. ".") into a new temp dir as
// name, and returns its path and a function that removes the temp dir.
// For TestMain, before m.Run.
func Build(dir, name string) (path string, cleanup func(), err error) {
	tmp, err := os.MkdirTemp("", name+"-test")
	if err != nil {
		return "", nil, fmt.Errorf("temp dir for %s: %w", name, err)
	}
	path = filepath.Join(tmp, name)
	build := exec.Command("go", "build", "-o", path, dir)
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		os.RemoveAll(tmp)
		return "", nil, fmt.Errorf("build %s: %w", name, err)
	}
	return path, func() { os.RemoveAll(tmp) }, nil
}

// WaitFor polls cond every 10 ms until it holds, and fails t if d passes
// first.
func WaitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
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
