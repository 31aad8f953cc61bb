// Package servertest is a stand-in for the flipbench server binaries in tests:
// it honours their command-line flags and HTTP contract (docs/CONTRACT.md) but
// sleeps instead of flipping a photo. Tests run it by linking their own test
// binary as bin/standard or bin/clustered and calling Main from TestMain when
// os.Args[0] has one of those names.
//
// Its behaviour is set by environment variables:
//
//	FAKESERVER_DELAY        job time (Go duration, default 20ms)
//	FAKESERVER_DELAY_<NAME> the same for the binary NAME only (STANDARD, CLUSTERED)
//	FAKESERVER_EXIT         exit code after a graceful stop (default 0)
//	FAKESERVER_LEAVE        if set, leave a file in the work dir on exit
//	FAKESERVER_IGNORE_TERM  if set, ignore SIGTERM (bench must kill it)
//	FAKESERVER_STATUS       status code of every /flip answer (default 200)
//	FAKESERVER_CRASH        if set, exit with code 1 at once
//	FAKESERVER_HELLO_DELAY  time each GET / holds one of the job slots (Go
//	                        duration, default 0), so a fast enough rate of
//	                        them queues up as it would on a busy server
//	FAKESERVER_ALLOC        bytes each request holds (touched) from arrival to
//	                        answer, as a Node server holds each job's image
//	FAKESERVER_NO_METRICS   if set, serve no /metrics (as a server without
//	                        histograms); otherwise standard serves its request
//	                        histogram on /metrics and clustered on -admin
package servertest

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"

	"syscall"
	"time"

	"github.com/flipbench/flipbench/contract"
	"github.com/flipbench/flipbench/server"
)

// IsServer reports whether argv0 names a server binary this package fakes.
func IsServer(argv0 string) bool {
	switch filepath.Base(argv0) {
	case "standard", "clustered":
		return true
	}
	return false
}

// RunIfServer is the first call of a TestMain whose test binary doubles as
// the fake server binaries (tests link it as bin/standard, bin/clustered,
// ...): started as one, it runs that server and exits; else it returns.
func RunIfServer() {
	if IsServer(os.Args[0]) {
		os.Exit(Main(os.Args[0], os.Args[1:], os.Stderr))
	}
}

// Main runs the fake server named by argv0 with args and returns its exit
// code.
func Main(argv0 string, args []string, stderr io.Writer) int {
	name := filepath.Base(argv0)
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	flags := server.RegisterFlags(fs)
	procs, workers := new(int), new(int)
	admin, adminToken := new(string), new(string)
	if name == "standard" {
		fs.IntVar(procs, contract.FlagProcs, 1, "GOMAXPROCS")
	} else {
		fs.IntVar(workers, contract.FlagWorkers, runtime.NumCPU(), "workers")
		fs.String(contract.FlagBalance, "reuseport", "reuseport|shared")
		fs.Duration(contract.FlagGrace, time.Second, "")
		fs.StringVar(admin, contract.FlagAdmin, "", "address of GET /metrics")
		fs.StringVar(adminToken, contract.FlagAdminTokenFile, "", "bearer token file of -admin")
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if os.Getenv("FAKESERVER_CRASH") != "" {
		fmt.Fprintln(stderr, "fakeserver: crashing as asked")
		return 1
	}
	if err := flags.ResolveImage(); err != nil {
		fmt.Fprintf(stderr, "fakeserver: %v\n", err)
		return 1
	}
	if _, err := os.Stat(flags.Image); err != nil {
		fmt.Fprintf(stderr, "fakeserver: image: %v\n", err)
		return 1
	}
	delay := 20 * time.Millisecond
	v := os.Getenv("FAKESERVER_DELAY_" + strings.ToUpper(name))
	if v == "" {
		v = os.Getenv("FAKESERVER_DELAY")
	}
	if v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			fmt.Fprintf(stderr, "fakeserver: FAKESERVER_DELAY: %v\n", err)
			return 1
		}
		delay = d
	}
	var helloDelay time.Duration
	if v := os.Getenv("FAKESERVER_HELLO_DELAY"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			fmt.Fprintf(stderr, "fakeserver: FAKESERVER_HELLO_DELAY: %v\n", err)
			return 1
		}
		helloDelay = d
	}
	alloc, _ := strconv.Atoi(os.Getenv("FAKESERVER_ALLOC"))
	status := http.StatusOK
	if v := os.Getenv("FAKESERVER_STATUS"); v != "" {
		status, _ = strconv.Atoi(v)
	}

	mode, capacity, worker, nworkers := "standard", max(1, *procs), -1, 1
	if name == "clustered" {
		mode, capacity, worker, nworkers = "clustered", 1, 0, max(1, *workers)
	} else if *procs > 1 {
		mode = "threaded"
	}
	pid := os.Getpid()
	tmpdir := flags.TempDir
	if tmpdir == "" {
		tmpdir = os.TempDir()
	}
	work := filepath.Join(tmpdir, fmt.Sprintf("flipbench-%d", pid))
	if err := os.MkdirAll(work, 0o755); err != nil {
		fmt.Fprintf(stderr, "fakeserver: %v\n", err)
		return 1
	}

	metrics := newFakeMetrics(name == "clustered")
	withMetrics := os.Getenv("FAKESERVER_NO_METRICS") == ""
	if withMetrics && *admin != "" {
		closer, err := metrics.serveAdmin(*admin, *adminToken, stderr)
		if err != nil {
			fmt.Fprintf(stderr, "fakeserver: %v\n", err)
			return 1
		}
		defer closer.Close()
	}
	slots := make(chan struct{}, capacity*nworkers)
	var next, done atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+contract.PathHealth, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(contract.Health{
			PID: pid, Mode: mode, Worker: worker, GOMAXPROCS: capacity,
			Capacity: capacity, Workers: nworkers, Done: done.Load(),
		})
	})
	// workerPID stands in for the worker that answers: a fake cluster is one
	// process, so it deals its answers round-robin among made-up pids.
	workerPID := func() int {
		if nworkers > 1 {
			return pid*100 + int(next.Add(1)%int64(nworkers))
		}
		return pid
	}
	mux.HandleFunc("GET "+contract.PathPID+"{$}", func(w http.ResponseWriter, r *http.Request) {
		wpid := workerPID()
		if helloDelay > 0 {
			select {
			case slots <- struct{}{}:
			case <-r.Context().Done():
				return
			}
			time.Sleep(helloDelay)
			<-slots
		}
		w.Header().Set(contract.HeaderWorkerPID, strconv.Itoa(wpid))
		w.Header().Set("Content-Type", "text/plain; charset=UTF-8")
		_, _ = io.WriteString(w, strconv.Itoa(wpid))
	})
	mux.HandleFunc("POST "+contract.PathFlip, func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		held := make([]byte, alloc)
		for i := 0; i < len(held); i += 4096 {
			held[i] = 1 // touch every page so it counts in RSS
		}
		defer runtime.KeepAlive(held)
		wpid := workerPID()
		select {
		case slots <- struct{}{}:
		case <-r.Context().Done():
			return
		}
		queue := time.Since(start)
		time.Sleep(delay)
		<-slots
		done.Add(1)
		h := w.Header()
		h.Set(contract.HeaderWorkerPID, strconv.Itoa(wpid))
		h.Set(contract.HeaderQueueTime, queue.String())
		h.Set(contract.HeaderJobTime, delay.String())
		h.Set(contract.HeaderResponseTime, time.Since(start).String())
		h.Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]any{"pid": wpid, "queue_ms": queue.Milliseconds(), "job_ms": delay.Milliseconds()})
		metrics.observe(contract.PathFlip, status, wpid%max(nworkers, 1), time.Since(start))
	})
	if withMetrics && name != "clustered" {
		mux.Handle("GET /metrics", metrics.handler())
	}

	ln, err := net.Listen("tcp", flags.Addr)
	if err != nil {
		fmt.Fprintf(stderr, "fakeserver: %v\n", err)
		return 1
	}
	if flags.AddrFile != "" {
		if err := contract.WriteAddrFile(flags.AddrFile, ln.Addr().String()); err != nil {
			fmt.Fprintf(stderr, "fakeserver: %v\n", err)
			return 1
		}
	}
	srv := &http.Server{Handler: mux}
	sig := make(chan os.Signal, 1)
	if os.Getenv("FAKESERVER_IGNORE_TERM") != "" {
		signal.Ignore(syscall.SIGTERM)
		signal.Notify(sig, os.Interrupt)
	} else {
		signal.Notify(sig, syscall.SIGTERM, os.Interrupt)
	}
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		<-sig
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}()
	fmt.Fprintf(stderr, "fakeserver %s: listening on %s (pid %d)\n", mode, ln.Addr(), pid)
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintf(stderr, "fakeserver: %v\n", err)
		return 1
	}
	<-drained
	if os.Getenv("FAKESERVER_LEAVE") != "" {
		_ = os.WriteFile(filepath.Join(work, "left-behind.jpg"), []byte("x"), 0o644)
	} else {
		_ = os.RemoveAll(work)
	}
	code, _ := strconv.Atoi(os.Getenv("FAKESERVER_EXIT"))
	fmt.Fprintf(stderr, "fakeserver %s: stopped\n", mode)
	return code
}
