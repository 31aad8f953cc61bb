package prefork

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"syscall"
)

// Socketless makes a master whose workers serve no socket (they pull their
// work from elsewhere, e.g. a queue): New binds nothing and needs no Addr,
// and each worker reports itself ready through Worker.Run. Supervision is
// the same: Pdeathsig, restart on crash, graceful stop, rolling restart.
func Socketless() Option { return func(m *Master) { m.socketless = true } }

// noAddr is the address of a socket-less master.
type noAddr struct{}

func (noAddr) Network() string { return "none" }
func (noAddr) String() string  { return "none" }

// listen makes the master's sockets: none for a socket-less one.
func (m *Master) listen(ctx context.Context) (*sockets, error) {
	if m.socketless {
		return &sockets{addr: noAddr{}}, nil
	}
	return m.balance.listen(ctx, m.addr, m.workers)
}

// NewSocketlessWorker is NewWorker for a worker of a Socketless master: it
// inherits only the status pipe.
func NewSocketlessWorker() (*Worker, error) { return newWorker(false) }

// Run runs a socket-less worker's work: run gets a context that ends on
// SIGTERM, SIGINT or SIGUSR1 (the master stopping or retiring it), when ctx
// is done or when the master dies, and must call ready once it takes work.
// Run returns run's error, or nil on a clean stop.
func (w *Worker) Run(ctx context.Context, run func(ctx context.Context, ready func()) error) error {
	return w.RunReporting(ctx, nil, run)
}

// RunReporting is Run for work that keeps histograms and counters: once
// ready, the worker reports sr's Series to its master with its heartbeat.
func (w *Worker) RunReporting(ctx context.Context, sr SeriesReporter, run func(ctx context.Context, ready func()) error) error {
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, sigStop, syscall.SIGINT, sigRetire)
	defer signal.Stop(sigs)

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	ready := make(chan struct{})
	readyOnce := sync.OnceFunc(func() { close(ready) })
	errc := make(chan error, 1)
	go func() { errc <- run(runCtx, readyOnce) }()
	parentGone := make(chan struct{})
	go w.watchParent(runCtx, parentGone)

	isReady := false
	for {
		select {
		case <-ready:
			ready, isReady = nil, true
			w.writeStatus(statusReady)
			go w.heartbeat(nil, sr, runCtx.Done())
		case err := <-errc:
			if ready != nil {
				select {
				case <-ready: // it was ready, then stopped at once
					isReady = true
					w.writeStatus(statusReady)
				default:
				}
			}
			if !isReady {
				if err == nil {
					err = errors.New("worker stopped before it was ready")
				}
				w.Fail(err)
			}
			w.closeStatus()
			if err != nil {
				return fmt.Errorf("prefork: worker %d: %w", w.index, err)
			}
			return nil
		case <-sigs:
			cancel()
		case <-parentGone:
			parentGone = nil
			cancel()
		}
	}
}
