package balance

import (
	"os"
	"testing"

	"github.com/flipbench/flipbench/internal/fakeserver"
)

// TestMain lets the test binary double as the fake server binaries.
func TestMain(m *testing.M) {
	fakeserver.RunIfServer()
	os.Exit(m.Run())
}
