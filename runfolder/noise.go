package runfolder

import "fmt"

// Noise is what else the machine did during a trial, from /proc: the cores
// other processes kept busy, the share stolen by the hypervisor, and the
// load average at the end.
type Noise struct {
	OtherCores float64 `json:"other_cores"` // CPU-seconds of others per second
	Steal      float64 `json:"steal"`       // share of all CPU time, 0 to 1
	Load1      float64 `json:"load1"`
}

// BusyShare is the share of one core that other processes may use in a
// trial before the summary calls the machine busy.
const BusyShare = 0.25

// BusySteal is the share of all CPU time the hypervisor may steal in a
// trial before the summary calls the machine busy.
const BusySteal = 0.05

// Busy reports whether the machine was busy enough to move the figures.
func (n Noise) Busy() bool { return n.OtherCores > BusyShare || n.Steal > BusySteal }

// BusyText is the summary's line for a busy trial, named by what.
func (n Noise) BusyText(what string) string {
	return fmt.Sprintf("%s: other processes used %.2f cores, steal %.1f %%, load %.2f", what, n.OtherCores, 100*n.Steal, n.Load1)
}

// BusyWarning is the summary's warning for the busy trials' lines, as
// BusyText gives them; "" without any.
func BusyWarning(busy []string) string {
	if len(busy) == 0 {
		return ""
	}
	s := fmt.Sprintf("\n> **Warning: the machine was busy** in %d trial(s) (other processes used more than %.2f of a core, "+
		"or the hypervisor stole more than %.0f %%); their figures may have moved with it:\n>\n", len(busy), BusyShare, 100*BusySteal)
	for _, line := range busy {
		s += "> - " + line + "\n"
	}
	return s
}
