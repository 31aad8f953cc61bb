package prefork

import (
	"math/rand/v2"
	"time"

	"github.com/flipbench/flipbench/internal/procfs"
	"github.com/flipbench/flipbench/internal/spawn"
)

// env is what the supervisor needs of the world: starting processes, time,
// and reading a process's memory. Run uses the real one (realEnv); tests
// give an in-memory one, in the way cloudflare/tableflip tests its parent
// and child, so that restarts, backoff, the watchdog, replacements and
// scaling run without forks and without sleeps.
type env struct {
	// start starts a worker process for slot, which is to ask for its
	// replacement after maxRequests answers (0: no limit).
	start func(slot int, maxRequests int64) (*child, error)
	// now is the time.
	now func() time.Time
	// after calls f once d has passed.
	after func(d time.Duration, f func())
	// rss is a process's resident memory in bytes, 0 if unknown.
	rss func(pid int) uint64
	// intN is a random number in [0, n), for -max-requests-jitter.
	intN func(n int) int
}

// realEnv forks real workers from sp's thread.
func realEnv(m *Master, sp *spawn.Spawner) env {
	return env{
		start: func(slot int, maxRequests int64) (*child, error) {
			return startChild(m, sp, slot, maxRequests, time.Now)
		},
		now:   time.Now,
		after: func(d time.Duration, f func()) { time.AfterFunc(d, f) },
		rss:   procfs.RSS,
		intN:  rand.IntN,
	}
}
