//go:build flipbench_slowdown

package job

// extraEncodes makes every job encode its flipped image once more and throw the
// bytes away: the output is still right and the job is slower, as an accidental
// second encode would make it.
const extraEncodes = 1
