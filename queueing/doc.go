// Package queueing computes the limit an arrival-rate run is measured
// against: what an ideal FIFO server with a fixed number of job slots and a
// fixed job time would have answered, for the exact arrival times a driver
// scheduled. It knows nothing of HTTP or of how the arrivals were made.
//
// The ideal is one discrete-event pass over the arrivals, not a queueing
// formula, so it holds for any arrival sequence: a burst (all at 0) gives the
// FIFO staircase of the ideal makespan, and Poisson arrivals give the mean
// wait of the M/D/c queue (see the tests). Its quantiles are taken with the
// same rule as every measured latency (loadtest.NewDist).
package queueing
