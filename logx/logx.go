// Package logx builds the slog loggers both modes use: timestamped lines (as the
// article's log module printed) that carry the process's pid and mode.
package logx

import (
	"fmt"
	"io"
	"log/slog"
	"os"
)

// New returns a logger writing format ("text" or "json") to w, every line carrying
// pid and mode.
func New(w io.Writer, format, mode string) (*slog.Logger, error) {
	var h slog.Handler
	switch format {
	case "text", "":
		h = slog.NewTextHandler(w, nil)
	case "json":
		h = slog.NewJSONHandler(w, nil)
	default:
		return nil, fmt.Errorf("log format %q: want text or json", format)
	}
	return slog.New(h).With("pid", os.Getpid(), "mode", mode), nil
}
