// Package jobstats is the job counts a prefork worker's App reports to its
// master (prefork.StatsReporter). It is a package of its own, with no
// imports, so that an App's package can name the type without importing
// prefork: package server does not, because prefork's own tests serve a
// server.
package jobstats

// Stats is an App's job counts at one moment.
type Stats struct {
	Done     int64 `json:"done"`      // jobs that succeeded
	Failed   int64 `json:"failed"`    // jobs that failed
	InFlight int   `json:"in_flight"` // jobs running now
	Queued   int   `json:"queued"`    // jobs waiting for a slot
}
