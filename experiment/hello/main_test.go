package hello

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
