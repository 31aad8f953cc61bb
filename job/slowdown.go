//go:build !flipbench_slowdown

package job

// extraFlipPairs is how many pairs of extra FlipV passes each job makes: none in a
// real build. The regression gate proves it catches a slower job by building with
// -tags flipbench_slowdown (see slowdown_injected.go).
const extraFlipPairs = 0
