//go:build flipbench_slowdown

package job

// extraFlipPairs makes every job flip its image twice more: the output is still
// right, the job is slower and allocates more, as a real regression would.
const extraFlipPairs = 1
