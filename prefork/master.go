package prefork

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Master starts, watches, restarts and stops the worker processes. Make one
// with New, then call Run.
type Master struct {
	addr          string
	workers       int
	balance       Mode
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

	files   []*os.File // listening sockets: one per slot (reuseport) or one (shared)
	bound   net.Addr
	restart chan struct{}

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
	}
	for _, o := range opts {
		o(m)
	}
	switch {
	case m.addr == "":
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
	}
	if _, err := ParseMode(string(m.balance)); err != nil {
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
	ctx := context.Background()
	var err error
	if m.balance == BalanceShared {
		var f *os.File
		f, m.bound, err = listenShared(ctx, m.addr)
		if f != nil {
			m.files = []*os.File{f}
		}
	} else {
		m.files, m.bound, err = listenReusePort(ctx, m.addr, m.workers)
	}
	if err != nil {
		return nil, fmt.Errorf("prefork: %w", err)
	}
	return m, nil
}

// Addr is the address the sockets are bound to (the chosen port when the
// configured port was 0).
func (m *Master) Addr() net.Addr { return m.bound }

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
		closeFiles(m.files)
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

	sp := startSpawner()
	defer sp.stop()
	r := &supervisor{
		m:          m,
		sp:         sp,
		events:     make(chan event),
		done:       make(chan struct{}),
		procs:      map[int]*proc{},
		slotCrash:  make([]int, m.workers),
		respawning: make([]bool, m.workers),
	}
	defer close(r.done)
	m.log.Info("master running", "master_pid", os.Getpid(), "workers", m.workers,
		"balance", string(m.balance), "addr", m.bound.String())
	return r.loop(ctx)
}

// spawner starts processes from one goroutine locked to its OS thread.
// Pdeathsig fires when the thread that forked a child exits, not when the
// process does, and the Go runtime may end threads; this thread lives until
// every worker is gone.
type spawner struct {
	reqs chan spawnReq
	done chan struct{}
}

type spawnReq struct {
	cmd  *exec.Cmd
	errc chan error
}

func startSpawner() *spawner {
	s := &spawner{reqs: make(chan spawnReq), done: make(chan struct{})}
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with this goroutine
		defer close(s.done)
		for r := range s.reqs {
			r.errc <- r.cmd.Start()
		}
	}()
	return s
}

func (s *spawner) start(cmd *exec.Cmd) error {
	errc := make(chan error, 1)
	s.reqs <- spawnReq{cmd: cmd, errc: errc}
	return <-errc
}

func (s *spawner) stop() {
	close(s.reqs)
	<-s.done
}

// proc is one worker process.
type proc struct {
	id       int
	slot     int
	pid      int
	cmd      *exec.Cmd
	started  time.Time
	ready    bool
	readyAt  time.Time
	retiring bool // sent sigRetire: a replacement took over
	stopping bool // sent sigStop: the master is stopping
	killed   bool // sent SIGKILL by the master
}

type eventKind int

const (
	evReady eventKind = iota
	evExit
	evReadyTimeout
	evRespawn
	evRetireTimeout
)

type event struct {
	kind  eventKind
	p     *proc
	slot  int
	state *os.ProcessState
	err   error
	msg   string // the worker's "fail" reason, if any
}

// supervisor is Run's state; only the loop goroutine touches it.
type supervisor struct {
	m      *Master
	sp     *spawner
	events chan event
	done   chan struct{}

	nextID     int
	procs      map[int]*proc // live processes by id
	slotCrash  []int         // crashes in a row per slot, for the backoff
	respawning []bool        // slot has a respawn timer pending
	startFails int           // workers in a row that died before ready
	roll       *rolling
	again      bool // a restart was asked for during a rolling restart
	stopping   bool
	fatal      error
}

type rolling struct {
	queue []int // slots still to replace; queue[0] is in progress
	old   *proc
	repl  *proc
}

func (r *supervisor) post(ev event) {
	select {
	case r.events <- ev:
	case <-r.done:
	}
}

func (r *supervisor) loop(ctx context.Context) error {
	for slot := range r.m.workers {
		if err := r.spawn(slot); err != nil {
			r.fatal = err
			break
		}
	}
	var graceC, killC <-chan time.Time
	if r.fatal != nil {
		r.m.log.Error("master giving up", "error", r.fatal)
		graceC = r.stop()
	}
	ctxDone := ctx.Done()
	for {
		if r.stopping && len(r.procs) == 0 {
			return r.fatal
		}
		select {
		case <-ctxDone:
			ctxDone = nil
			if !r.stopping {
				r.m.log.Info("master stopping", "master_pid", os.Getpid(), "grace", r.m.grace)
				graceC = r.stop()
			}
		case <-r.m.restart:
			r.startRolling()
		case <-graceC:
			graceC = nil
			for _, p := range r.procs {
				r.m.log.Warn("worker still running after grace, killing", "worker", p.slot, "worker_pid", p.pid)
				r.kill(p)
			}
			killC = time.After(5 * time.Second)
		case <-killC:
			return errors.Join(r.fatal, fmt.Errorf("prefork: %d workers did not exit after SIGKILL", len(r.procs)))
		case ev := <-r.events:
			r.handle(ev)
			if r.fatal != nil && !r.stopping {
				r.m.log.Error("master giving up", "error", r.fatal)
				graceC = r.stop()
			}
		}
	}
}

func (r *supervisor) handle(ev event) {
	p := ev.p
	switch ev.kind {
	case evReady:
		if _, live := r.procs[p.id]; !live || p.ready {
			return
		}
		p.ready = true
		p.readyAt = time.Now()
		r.startFails = 0
		r.m.log.Info("worker online", "worker", p.slot, "worker_pid", p.pid)
		if r.stopping {
			r.signal(p, sigStop)
			return
		}
		if r.roll != nil && r.roll.repl == p {
			r.retireOld()
		}
	case evReadyTimeout:
		if _, live := r.procs[p.id]; live && !p.ready {
			r.m.log.Error("worker not ready in time, killing", "worker", p.slot, "worker_pid", p.pid, "timeout", r.m.readyTimeout)
			r.kill(p)
		}
	case evRetireTimeout:
		if _, live := r.procs[p.id]; live {
			r.m.log.Warn("retiring worker still running after grace, killing", "worker", p.slot, "worker_pid", p.pid)
			r.kill(p)
		}
	case evRespawn:
		r.respawning[ev.slot] = false
		if r.stopping || r.slotServed(ev.slot) {
			return
		}
		if err := r.spawn(ev.slot); err != nil {
			r.fatal = err
		}
	case evExit:
		r.exited(p, ev)
	}
}

func (r *supervisor) exited(p *proc, ev event) {
	delete(r.procs, p.id)
	attrs := []any{"worker", p.slot, "worker_pid", p.pid}
	switch ws, ok := waitStatus(ev.state); {
	case ev.state == nil: // Wait failed before it could reap the process
		attrs = append(attrs, "code", "unknown", "wait_error", ev.err)
	case ok && ws.Signaled():
		attrs = append(attrs, "signal", ws.Signal().String())
	default:
		attrs = append(attrs, "code", ev.state.ExitCode())
	}
	switch {
	case p.stopping:
		attrs = append(attrs, "reason", "stopped")
	case p.retiring:
		attrs = append(attrs, "reason", "retired")
	case !p.ready:
		attrs = append(attrs, "reason", "died before ready")
	default:
		attrs = append(attrs, "reason", "crashed", "uptime", time.Since(p.started).Round(time.Millisecond))
	}
	if p.killed {
		attrs = append(attrs, "killed_by_master", true)
	}
	if ev.msg != "" {
		attrs = append(attrs, "error", ev.msg)
	}
	if p.stopping || p.retiring {
		r.m.log.Info("worker exited", attrs...)
	} else {
		r.m.log.Warn("worker exited", attrs...)
	}
	if r.m.onExit != nil {
		r.m.onExit(p.slot, p.pid)
	}

	if r.roll != nil {
		switch p {
		case r.roll.repl:
			if !p.ready {
				r.m.log.Error("rolling restart aborted: replacement died before ready",
					"worker", p.slot, "worker_pid", p.pid, "error", ev.msg)
				r.roll = nil
				r.again = false
				if !r.slotServed(p.slot) {
					r.scheduleRespawn(p)
				}
				return
			}
		case r.roll.old:
			r.roll.old = nil
			if r.roll.repl == nil || r.roll.repl.ready {
				r.nextSlot()
			}
			if p.retiring {
				return
			}
		}
	}
	if r.stopping || p.retiring {
		return
	}
	if !p.ready {
		r.startFails++
		reason := ev.msg
		if reason == "" {
			reason = exitString(ev.state)
		}
		if r.startFails >= r.m.maxStartFails {
			r.fatal = fmt.Errorf("prefork: %d workers in a row died before becoming ready; last: worker %d (pid %d): %s",
				r.startFails, p.slot, p.pid, reason)
			return
		}
	}
	if !r.slotServed(p.slot) {
		r.scheduleRespawn(p)
	}
}

// slotServed reports whether a live, non-retiring process serves slot.
func (r *supervisor) slotServed(slot int) bool {
	for _, q := range r.procs {
		if q.slot == slot && !q.retiring && !q.stopping {
			return true
		}
	}
	return false
}

func (r *supervisor) scheduleRespawn(p *proc) {
	if r.respawning[p.slot] {
		return
	}
	if p.ready && time.Since(p.readyAt) >= StableAfter {
		r.slotCrash[p.slot] = 0
	}
	r.slotCrash[p.slot]++
	d := r.m.minBackoff << min(r.slotCrash[p.slot]-1, 20)
	d = min(d, r.m.maxBackoff)
	r.respawning[p.slot] = true
	r.m.log.Info("restarting worker", "worker", p.slot, "backoff", d)
	slot := p.slot
	time.AfterFunc(d, func() { r.post(event{kind: evRespawn, slot: slot}) })
}

func (r *supervisor) startRolling() {
	if r.stopping {
		return
	}
	if r.roll != nil {
		r.again = true
		return
	}
	r.m.log.Info("rolling restart", "workers", r.m.workers)
	r.roll = &rolling{}
	for slot := range r.m.workers {
		r.roll.queue = append(r.roll.queue, slot)
	}
	r.beginSlot()
}

// beginSlot starts the replacement for roll.queue[0].
func (r *supervisor) beginSlot() {
	for r.roll != nil {
		if len(r.roll.queue) == 0 {
			r.m.log.Info("rolling restart done")
			r.roll = nil
			if r.again {
				r.again = false
				r.startRolling()
			}
			return
		}
		slot := r.roll.queue[0]
		var old *proc
		for _, q := range r.procs {
			if q.slot == slot && !q.retiring && !q.stopping {
				old = q
			}
		}
		if old == nil { // crashed and pending respawn: that one will be fresh
			r.roll.queue = r.roll.queue[1:]
			continue
		}
		p, err := r.start(slot)
		if err != nil {
			r.m.log.Error("rolling restart aborted", "worker", slot, "error", err)
			r.roll = nil
			return
		}
		r.roll.old, r.roll.repl = old, p
		return
	}
}

// retireOld retires roll.old now that roll.repl is ready.
func (r *supervisor) retireOld() {
	old := r.roll.old
	if old == nil { // it died meanwhile
		r.nextSlot()
		return
	}
	old.retiring = true
	r.signal(old, sigRetire)
	time.AfterFunc(r.m.grace, func() { r.post(event{kind: evRetireTimeout, p: old}) })
}

func (r *supervisor) nextSlot() {
	r.roll.queue = r.roll.queue[1:]
	r.roll.old, r.roll.repl = nil, nil
	r.beginSlot()
}

// stop asks every worker to stop and returns the grace timer.
func (r *supervisor) stop() <-chan time.Time {
	r.stopping = true
	r.roll = nil
	for _, p := range r.procs {
		r.signal(p, sigStop)
		p.stopping = true
	}
	return time.After(r.m.grace)
}

func (r *supervisor) signal(p *proc, sig syscall.Signal) {
	if err := p.cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		r.m.log.Warn("signal worker", "worker", p.slot, "worker_pid", p.pid, "signal", sig.String(), "error", err)
	}
}

func (r *supervisor) kill(p *proc) {
	p.killed = true
	r.signal(p, syscall.SIGKILL)
}

// spawn starts a worker for slot, counting a failure to start as a start
// failure; it returns an error only when that makes the master give up.
func (r *supervisor) spawn(slot int) error {
	if _, err := r.start(slot); err != nil {
		r.startFails++
		r.m.log.Error("start worker", "worker", slot, "error", err)
		if r.startFails >= r.m.maxStartFails {
			return fmt.Errorf("prefork: %d workers in a row failed to start; last: %w", r.startFails, err)
		}
		r.scheduleRespawn(&proc{slot: slot})
	}
	return nil
}

// start forks one worker process for slot and watches it.
func (r *supervisor) start(slot int) (*proc, error) {
	m := r.m
	lf := m.files[0]
	if m.balance == BalanceReusePort {
		lf = m.files[slot]
	}
	statusR, statusW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("status pipe: %w", err)
	}
	cmd := exec.Command(m.path, m.args...)
	cmd.Env = append(os.Environ(),
		envWorker+"="+strconv.Itoa(slot),
		envMasterPID+"="+strconv.Itoa(os.Getpid()),
		envBalance+"="+string(m.balance),
		envListenFD+"="+strconv.Itoa(listenFD),
		envStatusFD+"="+strconv.Itoa(statusFD),
		"GOMAXPROCS=1",
	)
	cmd.Stdout, cmd.Stderr = m.stdout, m.stderr
	cmd.ExtraFiles = []*os.File{lf, statusW} // fds 3 and 4
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	err = r.sp.start(cmd)
	statusW.Close()
	if err != nil {
		statusR.Close()
		return nil, fmt.Errorf("start %s: %w", m.path, err)
	}
	r.nextID++
	p := &proc{id: r.nextID, slot: slot, pid: cmd.Process.Pid, cmd: cmd, started: time.Now()}
	r.procs[p.id] = p
	r.m.log.Debug("worker started", "worker", slot, "worker_pid", p.pid)
	go r.watch(p, statusR)
	time.AfterFunc(m.readyTimeout, func() { r.post(event{kind: evReadyTimeout, p: p}) })
	return p, nil
}

// watch reads the status pipe of p and reports readiness, then its exit.
func (r *supervisor) watch(p *proc, status *os.File) {
	var msg string
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		sc := bufio.NewScanner(status)
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "ready":
				r.post(event{kind: evReady, p: p})
			case strings.HasPrefix(line, "fail "):
				msg = strings.TrimPrefix(line, "fail ")
			}
		}
	}()
	err := p.cmd.Wait()
	select {
	case <-readDone:
	case <-time.After(time.Second): // a descendant holds the pipe open
	}
	status.Close()
	<-readDone
	state := p.cmd.ProcessState
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		r.m.log.Warn("wait worker", "worker", p.slot, "worker_pid", p.pid, "error", err)
	}
	r.post(event{kind: evExit, p: p, state: state, err: err, msg: msg})
}

// waitStatus is ps's wait status; ps may be nil.
func waitStatus(ps *os.ProcessState) (syscall.WaitStatus, bool) {
	if ps == nil {
		return 0, false
	}
	ws, ok := ps.Sys().(syscall.WaitStatus)
	return ws, ok
}

func exitString(ps *os.ProcessState) string {
	if ps == nil {
		return "unknown exit"
	}
	return ps.String()
}
