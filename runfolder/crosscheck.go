package runfolder

import "github.com/flipbench/flipbench/loadtest"

// ClientFigures are what one load client saw of one mode: the columns the
// cross-check puts side by side.
type ClientFigures struct {
	Answers    int     `json:"answers"`
	Throughput float64 `json:"throughput"` // 2xx answers per second
	P50        float64 `json:"p50_ms"`
	P99        float64 `json:"p99_ms"`
	// NeverAnswered counts the clients (connections) that got no answer.
	NeverAnswered int   `json:"never_answered"`
	PerClient     []int `json:"per_client"` // answers per client, fewest first
}

// Autocannon is what the Node app's crosscheck.js prints.
type Autocannon struct {
	ClientFigures
	Version string  `json:"version"`
	Seconds float64 `json:"duration_seconds"`
	Non2xx  int     `json:"non_2xx"`
	Errors  int     `json:"errors"`
}

// CrossRow is one mode of a cross-check.
type CrossRow struct {
	Mode    string `json:"mode"`
	Skipped string `json:"skipped,omitempty"`
	// Autocannon is nil when it could not run (AutocannonSkipped says why).
	Autocannon        *Autocannon    `json:"autocannon,omitempty"`
	AutocannonSkipped string         `json:"autocannon_skipped,omitempty"`
	Flipbench         *ClientFigures `json:"flipbench,omitempty"`
	// Artillery is nil when it could not run (ArtillerySkipped says why);
	// Open is the project's open model at the same load, nil when it could
	// not run. Both are absent from cross-checks made before them.
	Artillery        *Artillery   `json:"artillery,omitempty"`
	ArtillerySkipped string       `json:"artillery_skipped,omitempty"`
	Open             *OpenFigures `json:"open,omitempty"`
	Problems         []string     `json:"problems,omitempty"`
	// Busy has a line (Noise.BusyText) for each of the mode's trials during
	// which other processes kept the machine busy.
	Busy []string `json:"busy,omitempty"`
}

// CrossCheck is a cross-check run: its load and each mode's row.
type CrossCheck struct {
	Clients  int               `json:"clients"`
	Duration loadtest.Duration `json:"duration"`
	Image    string            `json:"image"`
	Rows     []CrossRow        `json:"rows"`
	// Arrivals is the article's load both Artillery and the open model
	// sent; nil when that part did not run.
	Arrivals *CrossArrivals `json:"arrivals,omitempty"`
}

// NoteBusy adds a Busy line for rec, the mode's trial of what, when the
// machine was busy during it.
func (r *CrossRow) NoteBusy(rec Trial, what string) {
	if rec.Noise != nil && rec.Noise.Busy() {
		r.Busy = append(r.Busy, rec.Noise.BusyText(r.Mode+" "+what))
	}
}
