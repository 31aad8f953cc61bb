package servertest

import (
	"os"
	"path/filepath"
	"testing"
)

// LinkBin makes a bin folder in t's temp dir whose names (standard and
// clustered when none are given) are links to the running test binary,
// which then runs the fake server when its TestMain asks IsServer.
func LinkBin(t testing.TB, names ...string) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if len(names) == 0 {
		names = []string{"standard", "clustered"}
	}
	dir := t.TempDir()
	for _, n := range names {
		if err := os.Symlink(exe, filepath.Join(dir, n)); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// Photo writes a stand-in photo in t's temp dir: the fake server only
// checks that it exists.
func Photo(t testing.TB) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "photo.jpg")
	if err := os.WriteFile(p, []byte("not really a jpeg"), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// RequireFiles fails t unless every path exists and is not empty: what a
// test asks of the run folder a run on the fake server wrote.
func RequireFiles(t testing.TB, paths ...string) {
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
