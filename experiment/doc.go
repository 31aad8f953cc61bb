// Package experiment is what the experiments beyond bench's comparison
// share beyond the trial harness (package trial, whose Settings their
// Configs embed and whose Harness starts, warms, measures and stops each
// server as bench's does): the machine around a run (Machine: cores, load average), the
// result file (WriteResult, Load), the requests fired (FlipTarget,
// HelloTarget), the plots' look (plot.go) and the end of a summary
// (WriteTail, Finish). The experiments are its subpackages, each firing its
// load with package loadtest's engine and rendering its own summary and
// plots:
//
//   - balance: how connections reach workers under each Balance policy,
//     K bursts per size, one round each; `loadtest balance`.
//   - hello: the dispatch cost, GET / at a stepped-up rate until p99 passes
//     a bound; `loadtest bench -workload hello`.
//
// They live beside bench rather than in it to keep each package small.
package experiment
