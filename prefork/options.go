package prefork

import (
	"io"
	"log/slog"
	"time"
)

// Option configures a Master.
type Option func(*Master)

// Addr sets the TCP address the workers serve, e.g. ":3000" or
// "127.0.0.1:0" (port 0 picks a free port; see Master.Addr). Required.
func Addr(addr string) Option { return func(m *Master) { m.addr = addr } }

// Workers sets the number of worker processes (default runtime.NumCPU()).
func Workers(n int) Option { return func(m *Master) { m.workers = n } }

// Balancing sets how connections are spread over the workers (default
// BalanceReusePort).
func Balancing(b Balance) Option { return func(m *Master) { m.balance = b } }

// Grace sets how long a stop waits for workers to finish their accepted
// requests before it SIGKILLs them (default 30s). It also bounds how long a
// rolling restart waits for one retiring worker.
func Grace(d time.Duration) Option { return func(m *Master) { m.grace = d } }

// Logger sets the master's logger (default slog.Default()).
func Logger(l *slog.Logger) Option { return func(m *Master) { m.log = l } }

// Command sets the worker program and its arguments (default: this
// executable, from os.Executable, with this process's arguments).
func Command(path string, args ...string) Option {
	return func(m *Master) {
		m.path = path
		m.args = args
		m.argsSet = true
	}
}

// Output sets where the workers' standard output and error go (default the
// master's os.Stdout and os.Stderr).
func Output(stdout, stderr io.Writer) Option {
	return func(m *Master) {
		m.stdout = stdout
		m.stderr = stderr
	}
}

// MaxStartFailures sets how many workers in a row may die before becoming
// ready before Run gives up with an error (default 3). A rolling restart's
// replacement that fails to start aborts that restart instead.
func MaxStartFailures(n int) Option { return func(m *Master) { m.maxStartFails = n } }

// Backoff sets the delay before replacing a crashed worker: it starts at
// minDelay and doubles per crash in a row of the same slot up to maxDelay
// (defaults 100ms and 5s). A worker that ran for StableAfter resets it.
func Backoff(minDelay, maxDelay time.Duration) Option {
	return func(m *Master) {
		m.minBackoff = minDelay
		m.maxBackoff = maxDelay
	}
}

// ReadyTimeout sets how long a new worker may take to become ready before
// it is killed and counted as a start failure (default 30s).
func ReadyTimeout(d time.Duration) Option { return func(m *Master) { m.readyTimeout = d } }

// OnWorkerExit sets a function called from Run after each worker process
// has exited and been reaped, e.g. to remove what a killed worker left
// behind. It must not block for long.
func OnWorkerExit(f func(index, pid int)) Option { return func(m *Master) { m.onExit = f } }

// StableAfter is how long a worker must run for its slot's crash backoff to
// start over.
const StableAfter = 10 * time.Second

// WorkerTimeout sets the watchdog: a ready worker silent on its status pipe
// this long is killed with SIGKILL and replaced as a crashed one is (default
// 0: off). A worker writes a line at least every second (its stats, or a
// heartbeat) from a goroutine of its own, so silence means the whole
// process is stuck (stopped, thrashing, wedged), not that a job is slow:
// a slow job is the App's to bound. It must be at least 2 s.
func WorkerTimeout(d time.Duration) Option { return func(m *Master) { m.workerTimeout = d } }

// MaxRequests replaces a worker gracefully once it has answered n jobs
// (done or failed: the worker watches its App's Stats every 20 ms and asks;
// the master checks the stats lines too, a second late), plus
// a random 0 to jitter more per worker so that workers started together
// are not all replaced together (gunicorn's --max-requests and
// --max-requests-jitter). The worker keeps serving until its replacement is
// ready, then retires. Default 0: no limit.
func MaxRequests(n int64, jitter int) Option {
	return func(m *Master) {
		m.maxRequests = n
		m.maxRequestsJitter = jitter
	}
}

// MaxRSS replaces a worker gracefully once its resident memory exceeds
// bytes (PM2's max_memory_restart), checked every second. Default 0: no
// limit.
func MaxRSS(bytes uint64) Option { return func(m *Master) { m.maxRSS = bytes } }
