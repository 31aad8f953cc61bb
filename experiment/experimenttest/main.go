package experimenttest

import (
	"os"
	"testing"

	"github.com/flipbench/flipbench/internal/fakeserver"
)

// Main is an experiment's TestMain: it lets the test binary double as the
// fake server binaries (the tests link it as bin/standard, bin/clustered,
// ...), else runs the tests.
func Main(m *testing.M) {
	if fakeserver.IsServer(os.Args[0]) {
		os.Exit(fakeserver.Main(os.Args[0], os.Args[1:], os.Stderr))
	}
	os.Exit(m.Run())
}
