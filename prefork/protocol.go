package prefork

import "syscall"

// The master/worker protocol: what a master sets up for a worker process and
// what each says to the other.

// Environment variables the master sets for a worker.
const (
	envWorker    = "FLIPBENCH_WORKER"     // worker index: the marker
	envMasterPID = "FLIPBENCH_MASTER_PID" // parent PID saved at start
	envBalance   = "FLIPBENCH_BALANCE"    // the Balance's name
	envListenFD  = "FLIPBENCH_LISTEN_FD"  // inherited listening socket, or hand-off socket (BalanceRR)
	envAddr      = "FLIPBENCH_ADDR"       // the address the master serves (BalanceRR)
	envStatusFD  = "FLIPBENCH_STATUS_FD"  // inherited write end of the status pipe
	envCountFD   = "FLIPBENCH_COUNT_FD"   // inherited memfd holding the current worker count
	// envMaxRequests is the answers after which the worker asks for its
	// replacement (its jitter already added); 0 or unset is no limit.
	envMaxRequests = "FLIPBENCH_MAX_REQUESTS"
)

// Child file descriptors: ExtraFiles start at 3.
const (
	listenFD = 3 // the listening socket, or under BalanceRR the worker's end of the hand-off socket
	statusFD = 4
	countFD  = 5 // the worker count: 4 bytes, little-endian, at offset 0
)

// Lines a worker writes on its status pipe.
const (
	statusReady = "ready"  // the App has entered its accept loop
	statusFail  = "fail "  // followed by why the worker cannot start
	statusStats = "stats " // followed by the App's Stats as JSON, every statsInterval once ready
	statusBeat  = "beat"   // every statsInterval once ready, from a worker whose App reports no stats
	// statusReplace asks the master for a graceful replacement (followed by
	// why): the worker keeps serving until its replacement is ready.
	statusReplace = "replace "
)

// Signals the master sends a worker.
const (
	// sigStop asks for a final stop: take what is queued, finish, exit.
	sigStop = syscall.SIGTERM
	// sigRetire asks a worker to hand over: stop accepting, finish, exit.
	// The socket stays open in the master and the replacement.
	sigRetire = syscall.SIGUSR1
)

// The hand-off protocol (BalanceRR), on a SOCK_SEQPACKET Unix socket pair:
// every message is one packet of ASCII text, a connection's descriptor rides
// with its "conn" packet as SCM_RIGHTS. See the package doc.
const (
	// Master to worker.
	msgConn = "conn" // "conn <id>" + a descriptor: a connection for the App
	msgEnd  = "end"  // nothing more will come: a drain may finish

	// Worker to master.
	msgFree    = "free"    // the gate has a free unit of work: send one connection
	msgTook    = "took"    // "took <id>": the App has it; the master closes its copy
	msgRefused = "refused" // "refused <id>": the worker is stopping; give it to another
	msgDrain   = "drain"   // final stop: ask for nothing more, take what comes until "end"
	msgStop    = "stop"    // retiring: ask for nothing more, refuse what comes
)

// maxMsg bounds a hand-off packet's text.
const maxMsg = 64
