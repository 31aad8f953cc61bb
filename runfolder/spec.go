package runfolder

import "fmt"

// Family groups modes by what serves them ("go", "node"; package bench
// names them).
type Family string

// Spec is a mode resolved for one run: the command line that starts its
// server, as mode.json records it.
type Spec struct {
	Name     string   `json:"name"`
	Family   Family   `json:"family,omitempty"`
	Binary   string   `json:"binary"`
	Args     []string `json:"args"`
	Env      []string `json:"env,omitempty"`
	Workers  int      `json:"workers,omitempty"`  // processes that answer, from /healthz
	Capacity int      `json:"capacity,omitempty"` // jobs at once, from /healthz or the modes file
	Dir      string   `json:"dir,omitempty"`      // working directory
	// Plain servers know nothing of flipbench (a modes file's contract =
	// false): no address file, none of its flags; Args or PortEnv carry the
	// port ({port}, {addr}).
	Plain   bool        `json:"plain,omitempty"`
	PortEnv string      `json:"port_env,omitempty"`
	Ready   string      `json:"ready,omitempty"`   // an HTTP path answering 2xx, or "tcp"; empty: /healthz
	Request *Request    `json:"request,omitempty"` // nil: POST /flip with no body
	Sweep   *SweepPoint `json:"sweep,omitempty"`   // the sweep value this mode is
}

// Request is the request a mode's load sends; empty fields take POST
// /flip's.
type Request struct {
	Method      string            `json:"method,omitempty"`
	Path        string            `json:"path,omitempty"`
	BodyFile    string            `json:"body_file,omitempty"`
	ContentType string            `json:"content_type,omitempty"`
	Headers     map[string]string `json:"headers,omitempty"`
}

// SweepPoint is one value of a mode's sweep: mode Of of the modes file with
// placeholder Key set to Value.
type SweepPoint struct {
	Of    string `json:"of"`
	Key   string `json:"key"`
	Value int    `json:"value"`
}

// MemoryStop is how the memory guard stopped a server in the middle of a
// burst.
type MemoryStop struct {
	Level    int    `json:"level"`          // the burst it stopped
	RSS      uint64 `json:"rss_bytes"`      // the summed RSS that passed the budget
	Budget   uint64 `json:"budget_bytes"`   // the budget
	InFlight int    `json:"jobs_in_flight"` // requests sent and not yet answered then
}

func (m MemoryStop) String() string {
	return fmt.Sprintf("stopped for memory at n=%d: %d MiB of RSS over the %d MiB budget with %d jobs in flight",
		m.Level, m.RSS>>20, m.Budget>>20, m.InFlight)
}
