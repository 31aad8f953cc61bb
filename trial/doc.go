// Package trial is the harness every measurement of flipbench runs its
// servers through: the mode table and its resolution (Modes, Resolve), the
// server settings with their one set of defaults (Settings), and the trial
// (Harness.Run): start a mode's server on port 0 of 127.0.0.1, read its
// address file, wait for /healthz, warm it up, hand it to a Measure with
// the noise meter running, stop it by process group and check its exit and
// leftovers. It also holds the memory guard (WatchMemory) and env.json
// (CollectEnv).
//
// A mode is a table of a TOML modes file (ModeFile; the built-in one,
// modes.toml, is embedded and read by the same code as -modes-file): its
// name, command line with placeholders, needs, readiness, capacity, request
// and an optional sweep, each of whose values is a mode of its own. The
// file names the baseline. A mode whose program or need is missing is
// skipped with a one-line reason. How many jobs a contract server runs at
// once is read from its /healthz, never from its flags; a plain server (one
// that knows nothing of flipbench) gets its port through {port}, {addr} or
// an environment variable and may give its capacity in the file.
//
// Contract servers bind port 0 and report the port through an address file
// (package contract); plain ones are given a free port. Each runs in its own
// process group, with Pdeathsig: a run that is
// killed, even by SIGKILL, leaves no server running.
//
// bench's comparison, its cross-check and the experiments are its users;
// it knows nothing of rounds, S or reports.
package trial
