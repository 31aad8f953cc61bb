//go:build flipbench_slowdown

package job

// extraEncodes makes every job encode its flipped image twice more and throw the
// bytes away: the output is still right and the job is slower, as an accidental
// re-encode would make it. Two, not one: one moved job_time_over_jpeg_floor by
// +46 to +59 % in CI, too close to its 35 % tolerance for a proof that must not
// miss.
const extraEncodes = 2
