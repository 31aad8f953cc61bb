//go:build !flipbench_slowdown

package job

// extraEncodes is how many wasted JPEG encodes of the flipped image each job makes:
// none in a real build. The regression gate proves it catches a slower job by
// building with -tags flipbench_slowdown (see slowdown_injected.go).
const extraEncodes = 0
