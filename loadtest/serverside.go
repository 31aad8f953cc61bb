package loadtest

// ServerSide is the server's own account of a burst's requests: its
// request-duration histogram for the flip route, the difference between a
// scrape before the burst and one after, summed over workers and status
// codes. The server times a request from the moment it reads it, so a wait
// before that (the kernel's accept queue) is in the client's latency only.
// P50 and P99 are interpolated within their bucket as Prometheus's
// histogram_quantile does: they are as coarse as the buckets.
type ServerSide struct {
	Count int      `json:"count"`
	P50   Duration `json:"p50"`
	P99   Duration `json:"p99"`
	// Bounds are the buckets' upper bounds in seconds and Cumulative the
	// requests at or below each; Count is the +Inf bucket.
	Bounds     []float64 `json:"bounds_seconds"`
	Cumulative []uint64  `json:"cumulative"`
}
