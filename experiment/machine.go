package experiment

import (
	"fmt"
	"os"
	"runtime"
	"strings"
)

// Machine says how busy the machine was around a run: its cores and the
// load average at the start and at the end. An experiment's result embeds
// it; the machine may be shared, and a reader judges the figures by it.
type Machine struct {
	Cores      int    `json:"cores"`
	LoadBefore string `json:"load_before,omitempty"`
	LoadAfter  string `json:"load_after,omitempty"`
}

// StartMachine notes the machine at the start of a run.
func StartMachine() Machine { return Machine{Cores: runtime.NumCPU(), LoadBefore: LoadAvg()} }

// End notes the load average at the end of the run.
func (m *Machine) End() { m.LoadAfter = LoadAvg() }

// LoadText is the sentence of a summary that gives the load around the
// run; "" when it is unknown.
func (m Machine) LoadText() string {
	if m.LoadBefore == "" && m.LoadAfter == "" {
		return ""
	}
	return fmt.Sprintf("Load average (1, 5, 15 min) on this %d-core machine: %s at the start, %s at the end; "+
		"above the core count, other work shared the cores with the run.\n\n", m.Cores, m.LoadBefore, m.LoadAfter)
}

// LoadAvg returns the 1, 5 and 15 minute load averages as /proc/loadavg
// says them ("" when unknown).
func LoadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}
