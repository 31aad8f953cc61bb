package prefork

import "syscall"

// The master/worker protocol: what a master sets up for a worker process and
// what each says to the other.

// Environment variables the master sets for a worker.
const (
	envWorker    = "FLIPBENCH_WORKER"     // worker index: the marker
	envMasterPID = "FLIPBENCH_MASTER_PID" // parent PID saved at start
	envBalance   = "FLIPBENCH_BALANCE"    // the Balance's name
	envListenFD  = "FLIPBENCH_LISTEN_FD"  // inherited listening socket
	envStatusFD  = "FLIPBENCH_STATUS_FD"  // inherited write end of the status pipe
)

// Child file descriptors: ExtraFiles start at 3.
const (
	listenFD = 3
	statusFD = 4
)

// Lines a worker writes on its status pipe.
const (
	statusReady = "ready" // the App has entered its accept loop
	statusFail  = "fail " // followed by why the worker cannot start
)

// Signals the master sends a worker.
const (
	// sigStop asks for a final stop: take what is queued, finish, exit.
	sigStop = syscall.SIGTERM
	// sigRetire asks a worker to hand over: stop accepting, finish, exit.
	// The socket stays open in the master and the replacement.
	sigRetire = syscall.SIGUSR1
)
