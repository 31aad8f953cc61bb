package hello

import (
	"testing"

	"github.com/flipbench/flipbench/experiment/experimenttest"
)

// TestMain lets the test binary double as the fake server binaries.
func TestMain(m *testing.M) { experimenttest.Main(m) }
