package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/dustin/go-humanize"

	"github.com/flipbench/flipbench/contract"
	"github.com/flipbench/flipbench/prefork"
)

// superviseFlags are the supervisor's watchdog and its limits per worker.
type superviseFlags struct {
	workerTimeout time.Duration
	jobTimeout    time.Duration
	maxRequests   int64
	jitter        int
	maxRSS        string
}

func registerSuperviseFlags(fs *flag.FlagSet) *superviseFlags {
	f := &superviseFlags{}
	fs.DurationVar(&f.workerTimeout, contract.FlagWorkerTimeout, contract.DefaultWorkerTimeout,
		"kill and replace a worker silent this long on its status pipe (it beats every second from a goroutine of its own, so silence means a stuck process); 0 is off, else at least 2s")
	fs.DurationVar(&f.jobTimeout, contract.FlagJobTimeout, contract.DefaultJobTimeout,
		"answer 503 to a job running this long (its wait in the queue does not count) and replace its worker gracefully: imaging cannot be interrupted, so the job keeps its core until the worker retires; 0 is off")
	fs.Int64Var(&f.maxRequests, contract.FlagMaxRequests, 0,
		"replace a worker gracefully after it has answered this many jobs (as gunicorn's --max-requests); 0 is off")
	fs.IntVar(&f.jitter, contract.FlagMaxRequestsJitter, 0,
		"add a random 0 to this many jobs to each worker's -"+contract.FlagMaxRequests+", so that workers started together are not replaced together")
	fs.StringVar(&f.maxRSS, contract.FlagMaxRSS, "",
		"replace a worker gracefully once its resident memory exceeds this `size` (e.g. 300MB, 1GiB; checked every 250ms); empty is off")
	return f
}

// options are the prefork options the flags ask for.
func (f *superviseFlags) options() ([]prefork.Option, error) {
	if f.jobTimeout < 0 {
		return nil, fmt.Errorf("-%s %v: must not be negative", contract.FlagJobTimeout, f.jobTimeout)
	}
	opts := []prefork.Option{
		prefork.WorkerTimeout(f.workerTimeout),
		prefork.MaxRequests(f.maxRequests, f.jitter),
	}
	if f.maxRSS != "" {
		n, err := humanize.ParseBytes(f.maxRSS)
		if err != nil {
			return nil, fmt.Errorf("-%s: %w", contract.FlagMaxRSS, err)
		}
		if n == 0 {
			return nil, fmt.Errorf("-%s %q: must be positive (leave it empty for no limit)", contract.FlagMaxRSS, f.maxRSS)
		}
		opts = append(opts, prefork.MaxRSS(n))
	}
	return opts, nil
}

// scaleOnSignals adds a worker on SIGTTIN and removes one on SIGTTOU (as
// gunicorn does) until ctx is done.
func scaleOnSignals(ctx context.Context, m *prefork.Master, log *slog.Logger) {
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTTIN, syscall.SIGTTOU)
	go func() {
		defer signal.Stop(sigs)
		for {
			select {
			case s := <-sigs:
				delta, name := 1, "SIGTTIN" // Signal.String says "stopped (tty input)"
				if s == syscall.SIGTTOU {
					delta, name = -1, "SIGTTOU"
				}
				n, err := m.Scale(ctx, delta)
				if err != nil {
					log.Warn(name+": not scaled", "error", err)
					continue
				}
				log.Info(name+": scaled", "workers", n)
			case <-ctx.Done():
				return
			}
		}
	}()
}

// maxScaleBody bounds a PUT /workers body: a count.
const maxScaleBody = 64

// scaleHandler serves PUT /workers, whose body is the new worker count
// (a bare number, or {"workers": N}), and hands every other request to next.
func scaleHandler(m *prefork.Master, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != contract.PathWorkers || r.Method != http.MethodPut {
			next.ServeHTTP(w, r)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxScaleBody))
		if err != nil {
			http.Error(w, "read body: "+err.Error(), http.StatusBadRequest)
			return
		}
		n, err := parseCount(body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		got, err := m.SetWorkers(r.Context(), n)
		switch {
		case errors.Is(err, prefork.ErrCannotShrink):
			http.Error(w, err.Error(), http.StatusConflict)
			return
		case err != nil:
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(scaleAnswer{Workers: got})
	})
}

// scaleAnswer is the body of PUT /workers, and one form of its request.
type scaleAnswer struct {
	Workers int `json:"workers"`
}

func parseCount(body []byte) (int, error) {
	text := strings.TrimSpace(string(body))
	if strings.HasPrefix(text, "{") {
		var a scaleAnswer
		if err := json.Unmarshal([]byte(text), &a); err != nil {
			return 0, fmt.Errorf("body: %w", err)
		}
		return a.Workers, nil
	}
	n, err := strconv.Atoi(text)
	if err != nil {
		return 0, fmt.Errorf("body %q: want a worker count", text)
	}
	return n, nil
}
