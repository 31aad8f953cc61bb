// Package loadtest drives the flipbench servers with vegeta: exact bursts of N
// concurrent requests (each on its own connection, all sent at once), a
// sustained open-model mode at a constant rate, per-level metrics, and the
// files of a run (raw vegeta results, vegeta's reports, our metrics, a summary
// and plots).
//
// The package knows nothing of the servers' internals: it speaks HTTP to a
// loopback address and reads the response headers X-Worker-PID, X-Queue-Time
// and X-Job-Time. Bench starts the server binaries as child processes, one mode
// at a time, each in its own process group, and stops them by PID.
//
// A run folder (bench -out) holds:
//
//	env.json                machine, Go version, commit, image sha256, flags
//	summary.md              modes × levels: latency, makespan, efficiency, speedup
//	summary.json            the same as data (a Summary)
//	latency-<N>.svg         latency percentiles of every mode at burst N
//	throughput.svg          answers per second by mode and N
//	speedup.svg             standard's makespan over each mode's
//	<mode>/mode.json        how the mode ran (a ModeRun)
//	<mode>/server.log       the server's output
//	<mode>/burst-<N>.bin    raw results, gob (vegeta report / vegeta plot read it)
//	<mode>/burst-<N>.txt    vegeta's text report
//	<mode>/burst-<N>.json   vegeta's JSON report
//	<mode>/burst-<N>.hdr.txt      vegeta's HDR histogram plot file
//	<mode>/burst-<N>.metrics.json our Metrics
package loadtest
