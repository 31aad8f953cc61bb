package experiment

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/flipbench/flipbench/internal/fakeserver"
)

// TestMain lets the test binary double as the fake server binaries: the
// tests link it as bin/standard and bin/clustered.
func TestMain(m *testing.M) {
	if fakeserver.IsServer(os.Args[0]) {
		os.Exit(fakeserver.Main(os.Args[0], os.Args[1:], os.Stderr))
	}
	os.Exit(m.Run())
}

// fakeBin makes a bin folder whose standard and clustered are links to this
// test binary.
func fakeBin(t *testing.T) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, n := range []string{"standard", "clustered"} {
		if err := os.Symlink(exe, filepath.Join(dir, n)); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// fakeImage writes a stand-in photo (the fake server only checks it exists).
func fakeImage(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "photo.jpg")
	if err := os.WriteFile(p, []byte("not really a jpeg"), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// mustExist fails t unless every path exists and is not empty.
func mustExist(t *testing.T, paths ...string) {
	t.Helper()
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			t.Errorf("missing %s: %v", p, err)
		} else if fi.Size() == 0 {
			t.Errorf("%s is empty", p)
		}
	}
}
