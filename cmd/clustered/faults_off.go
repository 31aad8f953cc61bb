//go:build !flipbench_faults

package main

import (
	"log/slog"
	"net/http"
)

// faults is the fault injection of test builds (faults_on.go): release
// builds carry none.
func faults(*slog.Logger) func(http.Handler) http.Handler { return nil }
