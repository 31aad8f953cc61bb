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
// A run goes in rounds (Config.Runs): each round starts every mode once, in
// an order that rotates from round to round, through the trial Harness
// (start, warm up, measure, stop, record), which the experiments share.
// Each round has its S, the time of one job on one core at steady state:
// the median time between consecutive answers of runfolder.BaselineMode's
// bursts in the round, a burst of SBurst after its warm-up (MeasureS) and
// then its levels (PoolS). Every ideal makespan of the round is
// counted in it, so efficiencies compare across modes and drift between
// rounds stays out of them. Each mode's warm-up job time (the median of its
// sequential warm-up) is kept beside it for reading; it is not S.
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
