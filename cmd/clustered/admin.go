package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/flipbench/flipbench/contract"
	"github.com/flipbench/flipbench/internal/monitor"
	"github.com/flipbench/flipbench/internal/procfs"
	"github.com/flipbench/flipbench/prefork"
)

// serveAdmin serves the master's monitoring handler on addr until ctx is
// done or the returned stop is called. It listens before it returns, so a
// taken address fails the start.
func serveAdmin(ctx context.Context, addr string, m *prefork.Master, log *slog.Logger) (stop func(), err error) {
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("admin listen: %w", err)
	}
	hs := &http.Server{
		Handler:           monitor.Admin(workersView(m)),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	log.Info("admin serving", "admin_addr", ln.Addr().String())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("admin server", "error", err)
		}
	}()
	return func() {
		hs.Close() // a profile in progress must not hold up the stop
		<-done
	}, nil
}

// workersView is m's workers with each one's RSS, read from /proc.
func workersView(m *prefork.Master) monitor.View {
	return func(ctx context.Context) ([]contract.WorkerStatus, error) {
		infos, err := m.Workers(ctx)
		if err != nil {
			return nil, err
		}
		out := make([]contract.WorkerStatus, 0, len(infos))
		for _, w := range infos {
			out = append(out, contract.WorkerStatus{
				Worker: w.Index, PID: w.PID, State: w.State, Started: w.Started,
				Restarts: w.Restarts, RSSBytes: procfs.RSS(w.PID),
				Done: w.Stats.Done, Failed: w.Stats.Failed,
				InFlight: w.Stats.InFlight, Queued: w.Stats.Queued, StatsAt: w.StatsAt,
			})
		}
		return out, nil
	}
}
