// Package loadtest is the engine of the load driver, what a library user
// imports: exact bursts of N concurrent requests (each on its own connection,
// all sent at once) and a sustained open-model attack at a constant rate, both
// on vegeta; closed-loop keep-alive clients (KeepAlive: C clients, each on one
// persistent connection, the next request sent when the last answer came, as
// autocannon and wrk do), with per-client answers, fairness and starved
// clients (ComputeKeepAlive); open-model loads (OpenAttack: arrivals on a
// constant or seeded Poisson Schedule, each on a fresh connection, counted
// from its scheduled send time, with the ideal FIFO server's latency for
// the same arrivals beside them, ComputeOpen); the metrics of an attack from its vegeta results (latency
// distribution, makespan, throughput, the ideal makespan and efficiency,
// per-worker counts, the servers' own queue and job times); and the files of
// one level (raw results that vegeta reads back, vegeta's reports, our
// metrics).
//
// A run never runs away: a keep-alive client whose connection is refused or
// reset backs off before it reconnects (Backoff); with WithGoneAfter a run
// whose every client saw only such errors for that long ends with
// ErrServerGone; cancelling an attack's context stops it at once, and a
// caller that cancels with a cause (Stop("memory")) gets it back from
// StoppedReason for the metrics' Stopped field. With WithoutResults an
// attack keeps no results: a Recorder streams them to the .bin as they come
// and an Accumulator (KeepAliveAccumulator, OpenAccumulator) computes the
// metrics one result at a time, so memory stays bounded whatever the length
// and error rate.
//
// It knows nothing of how servers are started or how runs are reported: it
// speaks HTTP to a target and reads the response headers of the contract
// package. Package bench runs servers and uses it; package report renders what
// bench stored.
//
// The files of one level called name (e.g. "burst-100") in a folder:
//
//	<name>.bin           raw results, gob (vegeta report / vegeta plot read it)
//	<name>.txt           vegeta's text report
//	<name>.json          vegeta's JSON report
//	<name>.hdr.txt       vegeta's HDR histogram plot file
//	<name>.metrics.json  our Metrics (KeepAliveMetrics for keepalive-<C>)
package loadtest
