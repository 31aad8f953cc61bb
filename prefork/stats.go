package prefork

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/flipbench/flipbench/prefork/jobstats"
)

// StatsReporter is an App that reports its job counts. Worker.Serve sends
// them to the master (a "stats" line on the status pipe, every
// statsInterval) when the App implements it; other Apps report nothing.
type StatsReporter interface {
	Stats() jobstats.Stats
}

// statsInterval is how often a worker reports its Stats: a scrape sees
// counts at most this old.
const statsInterval = time.Second

// statsLine renders s as a status pipe line.
func statsLine(s jobstats.Stats) string {
	b, _ := json.Marshal(s) // a struct of numbers always marshals
	return statusStats + string(b)
}

// parseStats reads the JSON of a "stats" line (the prefix removed).
func parseStats(text string) (jobstats.Stats, error) {
	var s jobstats.Stats
	if err := json.Unmarshal([]byte(strings.TrimSpace(text)), &s); err != nil {
		return jobstats.Stats{}, fmt.Errorf("prefork: bad stats line %q: %w", text, err)
	}
	return s, nil
}

// WorkerInfo is one live worker process as its master sees it.
type WorkerInfo struct {
	Index    int            // its slot, 0 to N-1
	PID      int            // its process
	State    string         // "starting", "ready", "retiring" or "stopping"
	Started  time.Time      // when the master started it
	Restarts int            // processes the slot had before this one: crash replacements and rolling restarts
	Stats    jobstats.Stats // from its last "stats" line
	StatsAt  time.Time      // when that line came; zero if none has
}

// Workers returns the live worker processes, by slot then start time. It
// asks Run's loop, so it waits for Run to start; it returns an error if ctx
// ends first, and nothing once Run has returned. Safe from any goroutine.
func (m *Master) Workers(ctx context.Context) ([]WorkerInfo, error) {
	return askLoop(ctx, m, m.snap, "workers")
}
