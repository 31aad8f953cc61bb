package prefork

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/flipbench/flipbench/internal/spawn"
	"github.com/flipbench/flipbench/prefork/jobstats"
)

// Master starts, watches, restarts and stops the worker processes. Make one
// with New, then call Run.
type Master struct {
	addr          string
	workers       int
	balance       Balance
	grace         time.Duration
	log           *slog.Logger
	path          string
	args          []string
	argsSet       bool
	stdout        io.Writer
	stderr        io.Writer
	maxStartFails int
	minBackoff    time.Duration
	maxBackoff    time.Duration
	readyTimeout  time.Duration
	onExit        func(index, pid int)
	socketless    bool

	workerTimeout     time.Duration // 0: no watchdog
	maxRequests       int64         // 0: no limit
	maxRequestsJitter int
	maxRSS            uint64 // bytes; 0: no limit
	checkEvery        time.Duration

	socks    *sockets
	count    *os.File    // the worker count the workers read (count.go)
	disp     *dispatcher // hands connections over under BalanceRR; nil otherwise
	restart  chan struct{}
	snap     chan chan []WorkerInfo              // Workers' requests to Run's loop
	totals   chan chan map[int][]jobstats.Series // Totals' requests to Run's loop
	scale    chan scaleReq                       // Scale's requests to Run's loop
	finished chan struct{}                       // closed when Run returns

	mu      sync.Mutex
	running bool
	closed  bool
}

// New checks the options and binds the listening sockets, so a taken port is
// reported here, before any worker starts. Call Run to start the workers, or
// Close to release the sockets without running.
func New(opts ...Option) (*Master, error) {
	m := &Master{
		workers:       runtime.NumCPU(),
		balance:       BalanceReusePort,
		grace:         30 * time.Second,
		log:           slog.Default(),
		stdout:        os.Stdout,
		stderr:        os.Stderr,
		maxStartFails: 3,
		minBackoff:    100 * time.Millisecond,
		maxBackoff:    5 * time.Second,
		readyTimeout:  30 * time.Second,
		restart:       make(chan struct{}, 1),
		snap:          make(chan chan []WorkerInfo),
		totals:        make(chan chan map[int][]jobstats.Series),
		scale:         make(chan scaleReq),
		checkEvery:    checkEvery,
		finished:      make(chan struct{}),
	}
	for _, o := range opts {
		o(m)
	}
	switch {
	case m.addr == "" && !m.socketless:
		return nil, errors.New("prefork: no address (use prefork.Addr)")
	case m.workers < 1:
		return nil, fmt.Errorf("prefork: workers must be at least 1, got %d", m.workers)
	case m.grace <= 0:
		return nil, fmt.Errorf("prefork: grace must be positive, got %v", m.grace)
	case m.maxStartFails < 1:
		return nil, fmt.Errorf("prefork: max start failures must be at least 1, got %d", m.maxStartFails)
	case m.minBackoff <= 0 || m.maxBackoff < m.minBackoff:
		return nil, fmt.Errorf("prefork: bad backoff %v..%v", m.minBackoff, m.maxBackoff)
	case m.readyTimeout <= 0:
		return nil, fmt.Errorf("prefork: ready timeout must be positive, got %v", m.readyTimeout)
	case m.workerTimeout < 0:
		return nil, fmt.Errorf("prefork: worker timeout must not be negative, got %v", m.workerTimeout)
	case m.workerTimeout > 0 && m.workerTimeout < 2*statsInterval:
		return nil, fmt.Errorf("prefork: worker timeout %v is shorter than two heartbeats (%v)", m.workerTimeout, 2*statsInterval)
	case m.maxRequests < 0 || m.maxRequestsJitter < 0:
		return nil, fmt.Errorf("prefork: max requests %d and jitter %d must not be negative", m.maxRequests, m.maxRequestsJitter)
	}
	if _, err := ParseBalance(string(m.balance)); err != nil {
		return nil, err
	}
	if m.path == "" {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("prefork: find own executable: %w", err)
		}
		m.path = exe
	}
	if !m.argsSet {
		m.args = os.Args[1:]
	}
	socks, err := m.listen(context.Background())
	if err != nil {
		return nil, fmt.Errorf("prefork: %w", err)
	}
	m.socks = socks
	if m.count, err = newCount(m.workers); err != nil {
		socks.close()
		return nil, fmt.Errorf("prefork: %w", err)
	}
	if m.balance.handsOff() {
		m.disp = newDispatcher(socks.ln, m.log)
	}
	return m, nil
}

// Addr is the address the sockets are bound to (the chosen port when the
// configured port was 0).
func (m *Master) Addr() net.Addr { return m.socks.addr }

// Restart asks a running master for a rolling restart: one worker at a time
// is replaced by a fresh process once that process is ready. A request made
// while a rolling restart runs starts another one after it. Safe to call
// from any goroutine (e.g. on SIGHUP).
func (m *Master) Restart() {
	select {
	case m.restart <- struct{}{}:
	default: // one is already pending
	}
}

// Close releases the listening sockets. Run calls it when it returns.
func (m *Master) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.closed {
		m.closed = true
		if m.disp != nil {
			m.disp.close()
		}
		m.socks.close()
		if m.count != nil {
			m.count.Close()
		}
	}
	return nil
}

// Run starts the workers and supervises them until ctx is done, then stops
// them gracefully (see Grace) and returns nil. It returns an error if workers
// keep dying before they become ready. Run may be called once.
func (m *Master) Run(ctx context.Context) error {
	m.mu.Lock()
	if m.running || m.closed {
		m.mu.Unlock()
		return errors.New("prefork: Run called twice or after Close")
	}
	m.running = true
	m.mu.Unlock()
	defer m.Close()
	defer close(m.finished)

	// Workers get their Pdeathsig when the thread that forked them ends: the
	// spawner's thread lives until every worker is gone.
	sp := spawn.New()
	defer sp.Close()
	m.log.Info("master running", "master_pid", os.Getpid(), "workers", m.workers,
		"balance", string(m.balance), "addr", m.socks.addr.String())
	return newSupervisor(m, realEnv(m, sp)).run(ctx)
}
