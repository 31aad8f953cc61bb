package bench

import (
	"os"
	"testing"

	"github.com/flipbench/flipbench/server/servertest"
)

// TestMain lets the test binary double as the fake server binaries: bench
// tests link it as bin/standard and bin/clustered.
func TestMain(m *testing.M) {
	servertest.RunIfServer()
	os.Exit(m.Run())
}
