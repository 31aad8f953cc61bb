package runfolder

import "github.com/flipbench/flipbench/internal/stats"

// NoiseFigures are what else the machine did over the run's trials, and
// which trials it did so much in that their figures may have moved.
type NoiseFigures struct {
	OtherCores stats.Interval `json:"other_cores"`
	Steal      stats.Interval `json:"steal"`
	Load1      stats.Interval `json:"load1"`
	Busy       []string       `json:"busy,omitempty"`
}

func aggregateNoise(sum *Summary) NoiseFigures {
	var nf NoiseFigures
	var other, steal, load []float64
	for _, m := range sum.Modes {
		for _, t := range m.Trials() {
			if t.Noise == nil {
				continue
			}
			other, steal, load = append(other, t.Noise.OtherCores), append(steal, t.Noise.Steal), append(load, t.Noise.Load1)
			if t.Noise.Busy() {
				nf.Busy = append(nf.Busy, busyText(m.Mode, t))
			}
		}
	}
	nf.OtherCores, nf.Steal, nf.Load1 = stats.Summarize(other), stats.Summarize(steal), stats.Summarize(load)
	return nf
}
