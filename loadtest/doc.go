// Package loadtest drives the flipbench servers with vegeta: exact bursts of N
// concurrent requests (each on its own connection, all sent at once), a
// sustained open-model mode at a constant rate, per-level metrics, and the
// files of a run (raw vegeta results, vegeta's reports, our metrics, a summary
// and plots).
//
// The package knows nothing of the servers' internals: it speaks HTTP to a
// loopback address and reads the response headers X-Worker-PID, X-Queue-Time
// and X-Job-Time. Bench starts the server binaries as child processes, one mode
// at a time, and stops them by PID.
package loadtest
