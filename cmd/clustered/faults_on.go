//go:build flipbench_faults

package main

import (
	"log/slog"
	"net/http"
	"os"
	"sync"
	"syscall"

	"github.com/dustin/go-humanize"
)

// headerFault names the fault a test build's worker makes on a request:
//
//	hang        the whole worker stops (SIGSTOP to itself): silent on its status pipe, as a stuck process is
//	die         the worker exits at once, code 3, without an answer
//	leak=SIZE   the worker keeps SIZE more bytes of memory for good (go-humanize: 200MB), then answers
//
// Only binaries built with -tags flipbench_faults know it.
const headerFault = "X-Flipbench-Fault"

// faults wraps the app with the faults of headerFault.
func faults(log *slog.Logger) func(http.Handler) http.Handler {
	var (
		mu     sync.Mutex
		leaked [][]byte // kept for the life of the process: that is the leak
	)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch f := r.Header.Get(headerFault); {
			case f == "hang":
				log.Warn("fault: hanging")
				syscall.Kill(os.Getpid(), syscall.SIGSTOP)
			case f == "die":
				log.Warn("fault: dying")
				os.Exit(3)
			case len(f) > 5 && f[:5] == "leak=":
				n, err := humanize.ParseBytes(f[5:])
				if err != nil {
					http.Error(w, err.Error(), http.StatusBadRequest)
					return
				}
				b := make([]byte, n)
				for i := 0; i < len(b); i += 4096 { // touch every page: RSS, not just address space
					b[i] = 1
				}
				mu.Lock()
				leaked = append(leaked, b)
				chunks := len(leaked)
				mu.Unlock()
				log.Warn("fault: leaked", "bytes", n, "chunks", chunks)
			}
			next.ServeHTTP(w, r)
		})
	}
}
