package runfolder

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

// Busy reports whether the machine was busy enough to move the figures.
func (n Noise) Busy() bool { return n.OtherCores > BusyShare || n.Steal > 0.05 }
