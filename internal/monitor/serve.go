package monitor

import (
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// Serve serves h on ln, a monitoring address of its own, until the
// returned stop is called; stop closes at once, since a profile or a
// scrape in progress must not hold up the process's stop.
func Serve(ln net.Listener, h http.Handler, log *slog.Logger) (stop func()) {
	hs := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("monitoring server", "addr", ln.Addr().String(), "error", err)
		}
	}()
	return func() {
		hs.Close()
		<-done
	}
}
