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
	// Series are the App's histograms and counters, cumulative since the
	// process started (prefork.SeriesReporter); none if it keeps none.
	Series []Series `json:"series,omitempty"`
}

// Series is one histogram or counter series, cumulative since its process
// started. A counter has no Buckets and its value in Sum.
type Series struct {
	Name   string   `json:"name"`
	Labels []string `json:"labels,omitempty"` // values, in the order of the metric's label names
	Count  uint64   `json:"count,omitempty"`  // a histogram's observations
	Sum    float64  `json:"sum"`
	// Buckets are a histogram's cumulative counts at the upper bounds its
	// metric names (the same in every process of one build).
	Buckets []uint64 `json:"buckets,omitempty"`
}

// key identifies s among series of several processes.
func (s Series) key() string {
	k := s.Name
	for _, l := range s.Labels {
		k += "\xff" + l
	}
	return k
}

// Merge is the sum of the series of a and b, matched by name and labels; a
// histogram whose buckets do not match its first's (another build) is left
// out. Neither a nor b is changed.
func Merge(a, b []Series) []Series {
	out := make([]Series, 0, len(a)+len(b))
	at := map[string]int{}
	for _, s := range append(a[:len(a):len(a)], b...) {
		i, ok := at[s.key()]
		if !ok {
			at[s.key()] = len(out)
			s.Labels = append([]string(nil), s.Labels...)
			s.Buckets = append([]uint64(nil), s.Buckets...)
			out = append(out, s)
			continue
		}
		t := &out[i]
		if len(t.Buckets) != len(s.Buckets) {
			continue
		}
		t.Count += s.Count
		t.Sum += s.Sum
		for j, n := range s.Buckets {
			t.Buckets[j] += n
		}
	}
	return out
}
