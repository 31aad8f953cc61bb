// Package experiment is what the experiments beyond bench's comparison
// share: a Runner that prepares a run folder (clears a previous run's files,
// writes env.json) and starts and stops servers with bench.StartServer (one
// way to start a server), the run's S from a burst on standard as bench
// counts it, the machine around a run (Machine: cores, load average),
// the result file (WriteResult, Load), the requests fired (FlipTarget,
// HelloTarget), the plots' look (plot.go) and the end of a summary. The
// experiments are its subpackages, each firing its load with
// package loadtest's engine and rendering its own summary and plots:
//
//   - balance: how connections reach workers under each Balance policy,
//     K bursts per size, one round each; `loadtest balance`.
//   - hello: the dispatch cost, GET / at a stepped-up rate until p99 passes
//     a bound; `loadtest bench -workload hello`.
//
// They live beside bench rather than in it to keep each package small.
package experiment
