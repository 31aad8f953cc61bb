// Package prefork runs a server as a master process and N worker processes,
// the Go counterpart of Node's cluster module done the way a production
// supervisor would be. It knows nothing of the application: a worker serves
// any App (Capacity and Serve) on the listener prefork gives it.
//
// # Processes
//
// The master (Master.Run) re-executes its own binary (os.Executable, same
// arguments) once per worker with the environment marker FLIPBENCH_WORKER set
// to the worker index and GOMAXPROCS=1. A worker process finds out what it is
// with IsWorker, builds its App, and calls Worker.Serve. The master serves no
// requests.
//
// # Files
//
// One file per role: master.go (Master, New, Run), options.go (Option),
// balance.go (Balance: which sockets, and whether workers gate), sockets.go
// (making the listening sockets), supervisor.go (the event loop), state.go (a
// worker process's states and every transition between them), rolling.go
// (the rolling restart), child.go (one worker process: start, status pipe,
// ready and exited), protocol.go (what master and worker say to each other),
// worker.go (the worker side).
//
// # Listeners
//
// The master makes every listening socket and hands them to the workers as
// inherited file descriptors (exec.Cmd.ExtraFiles). The Balance decides how:
//
//   - BalanceReusePort (default): N sockets bound to the same address with
//     SO_REUSEPORT, one per worker slot; the kernel spreads new connections
//     over them by hash. Worker i serves socket i.
//   - BalanceShared: one socket shared by every worker. Each worker gates
//     its listener (listen.Gate): it accepts only while the App has a free
//     job slot (Capacity), so the next connection goes to a worker that is
//     idle.
//
// A new balance adds a case to Balance.listen (its sockets) and gated; one
// where the master itself accepts and hands connections over would also
// give each worker its end of a Unix socket instead of a listening socket.
//
// The gate counts connections, not requests: an idle HTTP keep-alive
// connection holds its slot until the client or the server's idle timeout
// closes it. Clients that send one request per connection (the benchmark's)
// are what shared balancing is for.
//
// Keeping the sockets in the master matters: closing a listening socket resets
// the connections waiting in its accept queue, so if each worker owned its
// socket, a crash or a rolling restart would drop the queued connections. Here
// the socket outlives any one worker process; a replacement worker accepts the
// connections its predecessor left queued. A taken port is reported by New
// before any process is started, also when another SO_REUSEPORT group (a
// leftover cluster) holds it: New first binds the port once without
// SO_REUSEPORT.
//
// # Readiness
//
// Each worker inherits the write end of a pipe (the status pipe). It writes
// "ready" when its App has entered its accept loop (the first Accept call on
// the listener), or "fail <reason>" when it cannot start (Worker.Fail). The
// master reads the pipe: "ready" makes the worker online; end of file before
// "ready" means the worker died starting. This works with every balance,
// where a request to the shared port could not target one worker.
//
// # Lifecycle
//
// The master sees each worker process as starting, ready, retiring or
// stopping; the state only moves forward, and every move (with the signal it
// sends) is in state.go.
//
//   - A worker that exits unexpectedly is replaced after a backoff. Workers
//     that die before becoming ready MaxStartFailures times in a row (a bad
//     configuration, a taken port) make Run return an error.
//   - Master.Restart starts a rolling restart: for each slot in turn, start a
//     replacement, wait until it is ready, then retire the old worker (SIGUSR1:
//     its listener stops accepting at once, leaving the queue to the
//     replacement, and the App finishes what it accepted) and wait for it to go.
//   - When the context given to Run is done, the master sends SIGTERM to every
//     worker, waits up to the grace period, SIGKILLs stragglers and returns.
//     A worker told to stop just cancels its App's context. The App
//     (server.ServeGracefully) drains the listener: it takes, outside the
//     gate, what is already queued in the kernel, lets every accepted
//     connection deliver its request, and only then shuts down. prefork
//     itself only stops accepting and cancels.
//   - Workers follow the master: they get SIGTERM from the kernel when it
//     dies (Pdeathsig; the master forks from one locked OS thread that lives
//     as long as Run, internal/spawn, because Pdeathsig follows the parent
//     thread), and they poll their parent PID against the one saved at start.
//     They never test getppid() == 1, which is wrong when the master is PID 1
//     in a container.
//   - Workers ignore SIGHUP: they share the master's process group, and a
//     terminal hangup must not kill them while the master rolls.
package prefork
