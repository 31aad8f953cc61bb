// Package bench runs the comparison: for each mode it starts the server as a
// child process, waits for /healthz, warms it up, fires every burst level at
// it with package loadtest, then runs its keep-alive clients (Config.Clients),
// samples its memory, stops it by PID and checks
// what it left behind, and writes the run folder's data.
//
// A mode is a value (Mode): its name, family, command line and needs. Adding
// a mode is adding a value to Modes; a mode whose program or need is missing
// is skipped with a one-line reason. How many jobs a server runs at once is
// read from its /healthz, never from its flags.
//
// A run has one S, the time of one job on one core at steady state: the
// time between answers of a burst of CalibrationBurst on CalibrationMode
// after its warm-up. Every mode's ideal makespan is counted in it, so
// efficiencies compare across modes. Each mode's own sequential warm-up S is
// kept beside it for reading.
//
// Servers bind port 0 and report the port through an address file (package
// contract), each in its own process group, with Pdeathsig: a bench that is
// killed, even by SIGKILL, leaves no server running. A memory guard kills a
// server whose processes together pass Config.MaxRSS and records the burst as
// stopped for memory.
//
// bench knows nothing of the servers' internals (it speaks the contract) and
// renders nothing for people: package report does.
//
// The run folder it writes is described by package runfolder.
package bench
