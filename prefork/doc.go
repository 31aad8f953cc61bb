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
// (the rolling restart), watchdog.go (the watchdog, the limits that replace
// a worker, and scaling), env.go (what the supervisor needs of the world:
// starting processes, time, memory; tests give an in-memory one), count.go
// (the worker count the workers read), child.go (one worker process: start,
// status pipe, ready and exited, and its last stats), protocol.go (what
// master and worker say to each other), stats.go (the stats lines and
// Master.Workers), worker.go (the worker side), dispatch.go (the master's
// hand-off under BalanceRR) and handoff.go (the worker's side of it).
//
// # Balances
//
// The master makes every listening socket. The Balance decides what the
// workers get:
//
//   - BalanceReusePort (default): N sockets bound to the same address with
//     SO_REUSEPORT, one per worker slot; the kernel spreads new connections
//     over them by hash. Worker i serves socket i, and accepts only while
//     its gate (listen.Gate, of Capacity) has room for new work.
//   - BalanceShared: one socket shared by every worker, each gated the same
//     way, so the next connection goes to a worker that is idle.
//   - BalanceRR, Node's SCHED_RR: the master accepts every connection on its
//     one socket and hands it to a worker whose gate has room, round-robin,
//     over a Unix socket (below).
//   - BalanceNone, Node's SCHED_NONE: one shared socket, and every worker
//     accepts whenever it can, with no gate.
//
// The sockets are inherited file descriptors (exec.Cmd.ExtraFiles); under
// BalanceRR a worker inherits instead its end of a Unix socket pair.
//
// The gate counts work, not connections (listen.Gate says how): a connection
// holds a unit from its admission until its first request is answered, and
// nothing while its client is slow to send that request or its body, or
// once it is kept alive between requests. A kept-alive connection is then
// the worker's own, as in Node: its later requests queue in that worker,
// and each answer on it lets one more waiting connection in, so a worker
// kept busy by its own clients still takes new ones at the pace it answers.
// Until the gate counted work, an idle kept-alive connection held its slot
// for as long as it stayed open: two idle clients stopped a two-worker
// cluster, and 8 of 10 autocannon clients were never answered.
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
// # What a crash loses, and what each balance costs
//
// A worker killed with SIGKILL loses what it had accepted. With the gate
// (reuseport, shared) and with rr, a worker holds no more new connections
// than it has job slots, so against clients that send one request per
// connection (the article's burst) it loses at most its running jobs (one at
// GOMAXPROCS=1); the connections that wait stay in a kernel queue of a
// socket the master holds, or in the master, and go to the other workers and
// to the replacement. Measured here, kill -9 of one of 2 workers 0.5 s into
// a burst of 40 (1 MP photo) lost 1 of 40 with each of them; reuseport
// before it was gated lost 14 to 19. A kept-alive client's connection lives
// in its worker, so a crash loses the request of every kept-alive connection
// the worker held (running or queued behind its job slot), as a Node
// cluster worker's crash does; the clients reconnect to the others.
//
//   - reuseport: the kernel picks a socket by hash, blind to load. Gated, a
//     connection hashed to a busy worker waits in that worker's kernel queue
//     even while another worker is idle (a burst of 20 still splits 6/14 to
//     10/10); ungated it waited inside the busy worker instead, and died
//     with it.
//   - shared: load-aware, but which idle worker the kernel wakes is up to
//     epoll.
//   - rr: load-aware and round-robin among free workers, at the price of a
//     master hop per connection (an accept, a sendmsg, and two small packets
//     back) and of a queue that lives in the master: if the master itself
//     dies, what waits in it dies too, where the workers of the other
//     balances, which hold the sockets as well, drain the kernel's queue
//     before they follow their master.
//   - none: keeps Node's weaknesses. A worker takes connections whether or
//     not it can run them, so the load is as uneven as the kernel's wake-ups
//     (Node's docs saw over 70% of connections in two of eight processes),
//     and a crash loses every connection the worker had accepted, including
//     requests waiting for a job slot inside it: 12 to 36 of 40 in five of
//     six runs of the test above (the sixth lost 1). It is the reference for what goes wrong.
//
// # The hand-off protocol (BalanceRR)
//
// Each worker has a SOCK_SEQPACKET Unix socket pair with the master; every
// message is one packet of text, and a connection's descriptor rides with
// its "conn" packet as SCM_RIGHTS (the master takes it with
// SyscallConn().Control, which leaves the socket non-blocking).
//
//	worker -> master  free          the gate has room for one more: send one connection
//	master -> worker  conn <id>     a connection, its descriptor attached
//	worker -> master  took <id>     the App has it (the master closes its copy)
//	worker -> master  refused <id>  the worker is stopping: give it to another
//	worker -> master  drain         final stop: ask for nothing more, take what comes
//	worker -> master  stop          retiring: ask for nothing more, refuse what comes
//	master -> worker  end           nothing more will come: a drain may finish
//
// A worker says "free" each time its gate has room for a connection (a unit
// of work is free, or an answer on a kept-alive connection earned a turn;
// see listen.Gate), from its App's first Accept on, while it serves; the unit
// is reserved for the connection the "free" brings. The
// master sends a connection only against a "free", to the next free worker
// in round-robin order; the rest wait in the master, in arrival order. It
// keeps its own descriptor of each connection until "took", so a connection
// that is refused, whose send fails (a write error: the worker died), or
// whose worker dies before taking it (its socket reaches end of file) goes
// back to the front of the queue, for another worker: a connection is never
// dropped while some worker lives.
//
// The worker's side is a net.Listener with Drain and Stop, so the App and
// server.ServeGracefully serve it unchanged. Stop (a retirement) says "stop"
// and refuses what it received but the App has not taken. Drain (a final
// stop) says "drain" and takes what comes until "end". On the master's final
// stop it takes what is queued on its socket, accepts nothing more, hands
// every waiting connection out whether or not a worker has a free slot (they
// are all draining), and says "end" to each draining worker once nothing is
// left in the master and nothing handed out can come back. A worker told to
// stop on its own (a SIGTERM from outside) gets its "end" once it holds
// nothing unacknowledged.
//
// How this differs from Node's SCHED_RR: Node's master sends a handle to a
// worker that has no unacknowledged hand-off, and the worker acknowledges on
// receipt, before it handles the request; it then interleaves every request
// it took, so a worker may hold many and a crash loses them all. Node
// balances connections; ours balances work: a worker takes a connection only
// while its gate has room, so what waits, waits in the master.
//
// # Readiness and stats: the status pipe
//
// Each worker inherits the write end of a pipe (the status pipe) and writes
// lines of text on it:
//
//	ready           its App has entered its accept loop (the first Accept call on the listener)
//	fail <reason>   it cannot start (Worker.Fail)
//	stats <json>    its App's job counts, {"done","failed","in_flight","queued"}, and its "series" (jobstats.Stats)
//	beat            alive, from a worker whose App reports no stats
//	replace <why>   asks for a graceful replacement (Worker.AskReplacement)
//
// The master reads the pipe: "ready" makes the worker online; end of file
// before "ready" means the worker died starting. This works with every
// balance, where a request to the shared port could not target one worker.
// Once ready, a worker writes every second, until Serve returns: a "stats"
// line if its App is a StatsReporter or a SeriesReporter (server.Server is
// both), else a "beat". Every line is a heartbeat for the watchdog. The
// master keeps each worker's last stats line, and Master.Workers returns
// them with each worker's pid, state, start time and restarts: what
// cmd/clustered -admin serves. The series (histograms and counters, such
// as request and job durations) it sums per worker index, adding a
// process's last report to its index's base when it exits, so that
// Master.Totals never goes down across a restart. A bad stats line is
// ignored: the counts are for watching, never for running the cluster.
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
//     Under BalanceRR the retiring worker refuses what it was handed and
//     had not taken, and the master gives that to the others.
//   - When the context given to Run is done, the master sends SIGTERM to every
//     worker, waits up to the grace period, SIGKILLs stragglers and returns.
//     A worker told to stop just cancels its App's context. The App
//     (server.ServeGracefully) drains the listener: it takes, outside the
//     gate, what is already queued in the kernel (under BalanceRR, what the
//     master hands out until "end"), lets every accepted connection deliver
//     its request, and only then shuts down. prefork itself only stops
//     accepting and cancels.
//   - Workers follow the master: they get SIGTERM from the kernel when it
//     dies (Pdeathsig; the master forks from one locked OS thread that lives
//     as long as Run, internal/spawn, because Pdeathsig follows the parent
//     thread), and they poll their parent PID against the one saved at start.
//     They never test getppid() == 1, which is wrong when the master is PID 1
//     in a container.
//   - Workers ignore SIGHUP: they share the master's process group, and a
//     terminal hangup must not kill them while the master rolls.
//
// # Watchdog, limits and scaling
//
// The master checks its ready workers every 250 ms (watchdog.go), as
// gunicorn and PM2 do:
//
//   - WorkerTimeout: a worker silent on its status pipe that long is killed
//     (SIGKILL) and replaced as a crash is. The beat comes from a goroutine
//     of its own, which Go's scheduler preempts into even under a CPU-bound
//     job, so silence means the whole process is stuck (stopped, thrashing,
//     wedged in the kernel), not that a job is slow. What its gate kept out
//     waits in the kernel or in the master and goes to the other workers
//     and to the replacement; the kill loses only what the worker held.
//   - A slow job is the App's to bound: server.Config.JobTimeout answers 503
//     and calls Worker.AskReplacement ("replace"), because imaging cannot
//     be interrupted and the job keeps its core until its process ends.
//   - MaxRequests (with a jitter, per worker) and MaxRSS: past either, a
//     worker is replaced gracefully, as one slot of a rolling restart: its
//     replacement starts, and once that is ready the worker retires, taking
//     no new connection and finishing what it holds. So is a worker that
//     asks. A worker watches its own answers (its App's Stats, every 20 ms)
//     and asks at its limit, which the master gives it with the jitter
//     added; it answers on until its replacement is ready.
//   - Master.SetWorkers and Master.Scale change the number of slots at
//     runtime: a new slot gets a worker at once (under BalanceReusePort a
//     new socket joins the group); a removed slot's worker retires and is
//     not replaced. Under BalanceReusePort a removed slot's socket must be
//     closed, which resets the connections queued on it unless the kernel
//     migrates them (net.ipv4.tcp_migrate_req=1), so without that a shrink
//     is refused (ErrCannotShrink). The count lives in a memfd every worker
//     inherits (count.go), so each one's /healthz says the count of now.
//
// The supervisor gets its processes, clock and memory readings through an
// env of function fields (env.go), as cloudflare/tableflip tests its
// upgrader: its tests run restarts, backoff, the watchdog, replacements,
// rolling restarts and scaling on in-memory processes and a clock they move.
package prefork
