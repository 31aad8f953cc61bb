package queued

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"

	"github.com/flipbench/flipbench/contract"
	"github.com/flipbench/flipbench/internal/monitor"
	"github.com/flipbench/flipbench/queue"
)

// serveWorkerMetrics serves a worker's metrics on GET /metrics at addr
// until the returned stop is called. A local worker has no need of it: its
// front serves its metrics. It listens before it returns, so a taken
// address fails the start.
func serveWorkerMetrics(ctx context.Context, addr string, m *queue.WorkerMetrics, log *slog.Logger) (stop func(), err error) {
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics listen: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET "+contract.PathMetrics, monitor.Handler(monitor.Registry(m)))
	log.Info("metrics serving", "metrics_addr", ln.Addr().String())
	return monitor.Serve(ln, mux, log), nil
}
