package hello

import (
	"os"
	"testing"

	"github.com/flipbench/flipbench/server/servertest"
)

// TestMain lets the test binary double as the fake server binaries.
func TestMain(m *testing.M) {
	servertest.RunIfServer()
	os.Exit(m.Run())
}
