package trial

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestEngineModes: the libvips modes run the -vips binaries with -engine vips and,
// where those are missing, are skipped with how to get them; the sharp modes run the
// Node app with --engine=sharp, the -1t one on one pool thread per worker.
func TestEngineModes(t *testing.T) {
	place := Place{BinDir: t.TempDir(), NodeApp: t.TempDir(), Cores: 2}
	for _, name := range []string{"vips-standard", "vips-shared"} {
		m, err := LookupMode(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := m.Command(place); err == nil || !strings.Contains(err.Error(), "libvips-dev") {
			t.Errorf("%s without its binary: %v, want how to get libvips", name, err)
		}
		bin := filepath.Join(place.BinDir, filepath.Base(m.CommandLine[0]))
		if err := os.WriteFile(bin, nil, 0o755); err != nil {
			t.Fatal(err)
		}
		s, err := m.Command(place)
		if err != nil || !slices.Contains(s.Args, "--engine=vips") || !strings.HasSuffix(s.Binary, "-vips") {
			t.Errorf("%s: %+v, %v; want a -vips binary with --engine=vips", name, s, err)
		}
	}
	if err := os.Mkdir(filepath.Join(place.NodeApp, "node_modules"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, script string
		oneThread    bool
	}{
		{"node-sharp-standard", "standard.js", false},
		{"node-sharp-cluster", "cluster.js", false},
		{"node-sharp-cluster-1t", "cluster.js", true},
	} {
		m, err := LookupMode(tc.name)
		if err != nil {
			t.Fatal(err)
		}
		s, err := m.Command(place)
		if err != nil {
			t.Skipf("%s: %v", tc.name, err) // node is not on the PATH
		}
		want := []string{filepath.Join(place.NodeApp, tc.script), "--engine=sharp"}
		if !slices.Equal(s.Args, want) {
			t.Errorf("%s: args %q, want %q", tc.name, s.Args, want)
		}
		if got := slices.Contains(s.Env, "UV_THREADPOOL_SIZE=1"); got != tc.oneThread {
			t.Errorf("%s: env %q, one pool thread %v, want %v", tc.name, s.Env, got, tc.oneThread)
		}
	}
}
