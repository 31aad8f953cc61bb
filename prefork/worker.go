package prefork

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/flipbench/flipbench/listen"
	"github.com/flipbench/flipbench/prefork/jobstats"
)

// parentPoll is how often a worker compares its parent PID with the saved one.
const parentPoll = 200 * time.Millisecond

// ErrNotWorker is returned by NewWorker in a process that a Master did not start.
var ErrNotWorker = errors.New("prefork: not a worker process")

// App is what a worker serves. Capacity is the number of jobs it runs at
// once (the gate size, or under BalanceRR the connections the worker asks
// the master for). Serve serves ln until ctx is done, then stops gracefully
// and returns nil on a clean stop: ln has Drain and Stopped methods (a
// *listen.Listener, or the hand-off listener of BalanceRR), and the App
// should drain it (server.ServeGracefully does) so that the connections
// queued for it are answered.
type App interface {
	Capacity() int
	Serve(ctx context.Context, ln net.Listener) error
}

// IsWorker reports whether this process was started by a Master as a worker.
func IsWorker() bool {
	_, ok := os.LookupEnv(envWorker)
	return ok
}

// Worker is the worker side of the master/worker protocol: the inherited
// listener (or hand-off socket), the status pipe and the saved parent PID.
type Worker struct {
	index     int
	balance   Balance
	masterPID int
	ln        net.Listener  // the listening socket; nil under BalanceRR
	hand      *net.UnixConn // the hand-off socket under BalanceRR
	addr      net.Addr      // the master's address under BalanceRR
	status    *os.File
	statusMu  sync.Mutex
	count     *os.File // the master's worker count (count.go); nil if it gave none
	maxReqs   int64    // answers after which to ask for a replacement; 0: none
}

// NewWorker reads the environment and file descriptors a Master set up for
// this process. It returns ErrNotWorker when the process is not a worker.
// It makes the process ignore SIGHUP, which the master takes as a rolling
// restart: a worker shares its process group.
func NewWorker() (*Worker, error) { return newWorker(true) }

func newWorker(listener bool) (*Worker, error) {
	idx, ok := os.LookupEnv(envWorker)
	if !ok {
		return nil, ErrNotWorker
	}
	w := &Worker{}
	var err error
	if w.index, err = strconv.Atoi(idx); err != nil {
		return nil, fmt.Errorf("prefork: bad %s=%q: %w", envWorker, idx, err)
	}
	if w.masterPID, err = strconv.Atoi(os.Getenv(envMasterPID)); err != nil {
		return nil, fmt.Errorf("prefork: bad %s: %w", envMasterPID, err)
	}
	if os.Getppid() != w.masterPID {
		return nil, fmt.Errorf("prefork: master %d is gone (parent is %d)", w.masterPID, os.Getppid())
	}
	if w.balance, err = ParseBalance(os.Getenv(envBalance)); err != nil {
		return nil, err
	}
	// os.NewFile accepts any fd >= 0, open or not: check that they came.
	for _, in := range []struct {
		fd   int
		what string
	}{{listenFD, "listening or hand-off socket"}, {statusFD, "status pipe"}} {
		if in.fd == listenFD && !listener {
			continue
		}
		if _, err := unix.FcntlInt(uintptr(in.fd), unix.F_GETFD, 0); err != nil {
			return nil, fmt.Errorf("prefork: inherited %s (fd %d) is missing: %w", in.what, in.fd, err)
		}
	}
	// A worker shares the master's process group: a terminal hangup (or
	// kill -HUP -pgid) must not kill every worker while the master, which
	// takes SIGHUP as a rolling restart, carries on.
	signal.Ignore(syscall.SIGHUP)
	if v := os.Getenv(envMaxRequests); v != "" {
		if w.maxReqs, err = strconv.ParseInt(v, 10, 64); err != nil {
			return nil, fmt.Errorf("prefork: bad %s=%q: %w", envMaxRequests, v, err)
		}
	}
	w.status = os.NewFile(statusFD, "prefork-status")
	if _, ok := os.LookupEnv(envCountFD); ok {
		if _, err := unix.FcntlInt(countFD, unix.F_GETFD, 0); err == nil {
			w.count = os.NewFile(countFD, "prefork-workers")
		}
	}
	if !listener {
		return w, nil
	}
	if err := w.inherit(); err != nil {
		w.status.Close()
		return nil, fmt.Errorf("prefork: %w", err)
	}
	return w, nil
}

// inherit opens the inherited socket: a listener, or under BalanceRR the
// hand-off socket and the master's address.
func (w *Worker) inherit() error {
	f := os.NewFile(listenFD, "prefork-listener")
	defer f.Close() // FileListener and FileConn keep their own duplicates
	if !w.balance.handsOff() {
		ln, err := net.FileListener(f)
		if err != nil {
			return fmt.Errorf("inherited listener: %w", err)
		}
		w.ln = ln
		return nil
	}
	addr, err := net.ResolveTCPAddr("tcp", os.Getenv(envAddr))
	if err != nil {
		return fmt.Errorf("bad %s: %w", envAddr, err)
	}
	c, err := net.FileConn(f)
	if err != nil {
		return fmt.Errorf("inherited hand-off socket: %w", err)
	}
	uc, ok := c.(*net.UnixConn)
	if !ok {
		c.Close()
		return fmt.Errorf("inherited hand-off socket is a %T, not a Unix socket", c)
	}
	w.hand, w.addr = uc, addr
	return nil
}

// closeInherited closes the inherited socket.
func (w *Worker) closeInherited() {
	if w.ln != nil {
		w.ln.Close()
	}
	if w.hand != nil {
		w.hand.Close()
	}
}

// Index is the worker's slot index, 0 to N-1.
func (w *Worker) Index() int { return w.index }

// Balance is how the master spreads connections over the workers.
func (w *Worker) Balance() Balance { return w.balance }

// Fail tells the master why this worker cannot start, so that its error
// names the cause, and releases the inherited files. Call it before exiting
// when building the App fails.
func (w *Worker) Fail(err error) {
	msg := strings.ReplaceAll(err.Error(), "\n", " ")
	w.writeStatus(statusFail + msg)
	w.closeStatus()
	w.closeInherited()
}

// AskReplacement asks the master to replace this worker gracefully, e.g.
// after a job overran its deadline and still holds a job slot: the master
// starts a replacement and, once it is ready, retires this worker (which
// then finishes what it holds). why is logged by the master. Only the first
// ask counts.
func (w *Worker) AskReplacement(why string) {
	w.writeStatus(statusReplace + strings.ReplaceAll(why, "\n", " "))
}

func (w *Worker) writeStatus(line string) {
	w.statusMu.Lock()
	defer w.statusMu.Unlock()
	if w.status != nil {
		_, _ = w.status.WriteString(line + "\n") // the master may be gone; the parent watch handles that
	}
}

func (w *Worker) closeStatus() {
	w.statusMu.Lock()
	defer w.statusMu.Unlock()
	if w.status != nil {
		w.status.Close()
		w.status = nil
	}
}

// Serve serves app on the inherited listener (under BalanceRR, on the
// connections the master hands over) and reports readiness to the master
// when app first calls Accept; from then on, if app is a StatsReporter, its
// Stats every statsInterval. It stops when ctx is done, on SIGTERM
// or SIGINT, or when the master dies (parent PID changed): it cancels app's
// context, and app drains the listener. On SIGUSR1 (the master retiring it
// for a replacement) it first stops the listener, so that the replacement
// takes the queue. Serve returns app's error, or nil on a clean stop.
func (w *Worker) Serve(ctx context.Context, app App) error {
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, sigStop, syscall.SIGINT, sigRetire)
	defer signal.Stop(sigs)

	ready := make(chan struct{})
	ln := w.listener(app.Capacity(), func() { close(ready) })

	serveCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- app.Serve(serveCtx, ln) }()

	parentGone := make(chan struct{})
	go w.watchParent(serveCtx, parentGone)

	statsDone := make(chan struct{})
	defer close(statsDone)

	isReady := false
	ctxDone := ctx.Done() // nil after the first hit: a done ctx would spin the loop
	for {
		select {
		case <-ready:
			ready = nil
			isReady = true
			w.writeStatus(statusReady)
			// The pipe stays open for the heartbeat; Serve closes it on return.
			r, _ := app.(StatsReporter)
			sr, _ := app.(SeriesReporter)
			go w.heartbeat(r, sr, statsDone)
			if r != nil && w.maxReqs > 0 {
				go w.watchAnswers(r, statsDone)
			}
		case err := <-errc:
			ln.Close()
			if !isReady && ready != nil {
				select {
				case <-ready: // it did serve, then stopped at once
					isReady = true
					w.writeStatus(statusReady)
				default:
				}
			}
			if !isReady {
				if err == nil {
					err = errors.New("app stopped before serving")
				}
				w.Fail(err)
			}
			w.closeStatus()
			if err != nil {
				return fmt.Errorf("prefork: worker %d: %w", w.index, err)
			}
			return nil
		case s := <-sigs:
			if s == sigRetire {
				ln.Stop()
			}
			cancel()
		case <-ctxDone:
			ctxDone = nil
			cancel()
		case <-parentGone:
			parentGone = nil
			cancel()
		}
	}
}

// stoppableListener is what Serve needs of the App's listener besides
// net.Listener: a retirement stops it.
type stoppableListener interface {
	net.Listener
	Stop()
}

// listener wraps the inherited socket for an App of capacity job slots;
// onFirst is called on its first Accept.
func (w *Worker) listener(capacity int, onFirst func()) stoppableListener {
	capacity = max(capacity, 1)
	if w.balance.handsOff() {
		return newHandoffListener(w.hand, w.addr, capacity, onFirst)
	}
	gate := 0
	if w.balance.gated() {
		gate = capacity
	}
	return listen.New(w.ln, listen.Gated(gate), listen.OnFirstAccept(onFirst))
}

// heartbeat writes r's Stats with sr's Series (a "beat" if both are nil)
// on the status pipe at once, then every statsInterval until done is
// closed: the master's watchdog takes silence for a stuck process.
func (w *Worker) heartbeat(r StatsReporter, sr SeriesReporter, done <-chan struct{}) {
	beat := func() bool {
		if r == nil && sr == nil {
			w.writeStatus(statusBeat)
			return false
		}
		var st jobstats.Stats
		if r != nil {
			st = r.Stats()
		}
		if sr != nil {
			st.Series = sr.Series()
		}
		w.writeStatus(statsLine(st))
		return false
	}
	beat()
	every(statsInterval, done, beat)
}

// every calls f every d until f reports true or done is closed.
func every(d time.Duration, done <-chan struct{}, f func() (stop bool)) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-t.C:
			if f() {
				return
			}
		}
	}
}

// answersPoll is how often a worker with a -max-requests limit reads its
// App's counts: an atomic load or two, so often enough that the limit is
// met within a few answers rather than a second's worth.
const answersPoll = 20 * time.Millisecond

// watchAnswers asks for a replacement once the App has answered maxReqs
// jobs (done or failed), then returns; it also returns when done closes.
// The master counts from the stats lines too, a second late, for workers
// that do not.
func (w *Worker) watchAnswers(r StatsReporter, done <-chan struct{}) {
	every(answersPoll, done, func() bool {
		st := r.Stats()
		if st.Done+st.Failed < w.maxReqs {
			return false
		}
		w.AskReplacement(fmt.Sprintf("answered %d jobs (max %d)", st.Done+st.Failed, w.maxReqs))
		return true
	})
}

// watchParent closes gone when the parent PID differs from the master's.
func (w *Worker) watchParent(ctx context.Context, gone chan<- struct{}) {
	every(parentPoll, ctx.Done(), func() bool {
		if os.Getppid() != w.masterPID {
			close(gone)
			return true
		}
		return false
	})
}
