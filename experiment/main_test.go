package experiment

import (
	"os"
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
