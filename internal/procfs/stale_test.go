package procfs

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
)

func TestRemoveDead(t *testing.T) {
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	base := t.TempDir()
	deadPID, livePID := strconv.Itoa(dead.Process.Pid), strconv.Itoa(os.Getpid())
	names := map[string]bool{ // name: kept
		"app-" + deadPID:              false,
		"app-" + deadPID + "-mode-12": false,
		"app-" + livePID:              true,
		"app-" + livePID + "-mode-12": true,
		"app-standard-12":             true, // no pid: not ours to judge
		"other-" + deadPID:            true,
	}
	for n := range names {
		if err := os.Mkdir(filepath.Join(base, n), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := RemoveDead(base, "app-"); err != nil {
		t.Fatal(err)
	}
	for n, kept := range names {
		_, err := os.Stat(filepath.Join(base, n))
		if got := err == nil; got != kept {
			t.Errorf("%s: kept %v, want %v", n, got, kept)
		}
	}
}
