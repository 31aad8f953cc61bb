package main

import (
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/flipbench/flipbench/contract"
	"github.com/flipbench/flipbench/internal/testproc"
)

// copyFile copies src to dst with mode perm.
func copyFile(t *testing.T, src, dst string, perm os.FileMode) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, perm); err != nil {
		t.Fatal(err)
	}
}

// A binary in <repo>/bin started from another directory finds the default
// photo in <repo>/testdata, binds port 0 and says which port in its address
// file.
func TestStartsFromAnyDirectory(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	repo := t.TempDir()
	bin := filepath.Join(repo, "bin", "standard")
	copyFile(t, exe, bin, 0o755) // a copy: os.Executable resolves links
	// The small photo under the default name keeps the job short.
	copyFile(t, "../../testdata/photo-1mp.jpg", filepath.Join(repo, contract.DefaultImage), 0o644)

	elsewhere, tmp := t.TempDir(), t.TempDir()
	addrFile := filepath.Join(tmp, "addr")
	cmd := exec.Command(bin, "-addr", "127.0.0.1:0", "-addr-file", addrFile, "-tmpdir", tmp)
	cmd.Dir = elsewhere
	cmd.Env = append(os.Environ(), envServe+"=1")
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		_ = cmd.Process.Kill()
	}()

	var addr string
	testproc.WaitFor(t, 20*time.Second, "the address file", func() bool {
		addr, err = contract.ReadAddrFile(addrFile)
		if err != nil && !errors.Is(err, contract.ErrNoAddr) {
			t.Fatal(err)
		}
		select {
		case err := <-exited:
			t.Fatalf("server exited before it listened: %v", err)
		default:
		}
		return addr != ""
	})
	resp, err := http.Post("http://"+addr+contract.PathFlip, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /flip: %s: %s", resp.Status, body)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("exit after SIGTERM: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no exit 20 s after SIGTERM")
	}
}
