package fakeserver

import (
	"os"
	"path/filepath"
	"testing"
)

// BinDir makes a bin folder whose server binaries (standard and clustered,
// or the names given) are links to the running test binary, which then runs
// as the fake server when its TestMain calls Main for IsServer's names.
func BinDir(t testing.TB, names ...string) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if len(names) == 0 {
		names = []string{"standard", "clustered"}
	}
	for _, n := range names {
		if err := os.Symlink(exe, filepath.Join(dir, n)); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// Image writes a stand-in photo: the fake server only checks that it exists.
func Image(t testing.TB) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "photo.jpg")
	if err := os.WriteFile(p, []byte("not really a jpeg"), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
