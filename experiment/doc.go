// Package experiment runs the experiments beyond bench's comparison, each
// into a run folder of its own, and renders them:
//
//   - Balance: how connections reach workers. For each Balance policy
//     (reuseport, shared, rr, none: the bench modes that serve them) and
//     burst size, K bursts on fresh connections at one server start; every
//     run's per-worker split (answers per worker pid) and makespan over the
//     ideal, and their distribution.
//   - Hello: the dispatch cost. GET / (a hello world that answers the pid)
//     at a sustained, stepped-up rate per mode until p99 passes a bound or
//     errors appear; each mode's highest sustained rate.
//
// It starts servers with bench.StartServer and fires load with package
// loadtest: there is one way to start a server and one engine. It lives
// beside bench rather than in it to keep both packages small.
//
// A balance run folder holds:
//
//	env.json                          machine, commit, image, flags
//	balance.json                      every run's split and ratio (a BalanceRun)
//	balance.md, balance-*.svg         the summary and its plots
//	calibration/server.log            standard, whose warm-up gives S
//	<policy>/server.log               the policy's server
//	<policy>/burst-<N>-run-<K>.*      one run's level files (package loadtest)
//
// A hello run folder keeps bench's shape:
//
//	env.json, hello.json, summary.md, hello-p99.svg
//	<mode>/server.log, <mode>/rate-<R>.*  one step's level files
package experiment
