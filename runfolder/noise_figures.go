package runfolder

import (
	"fmt"

	"github.com/flipbench/flipbench/internal/stats"
)

// NoiseFigures are what else the machine did over the run's trials, and
// which trials it did so much in that their figures may have moved.
type NoiseFigures struct {
	OtherCores stats.Interval `json:"other_cores"`
	Steal      stats.Interval `json:"steal"`
	Load1      stats.Interval `json:"load1"`
	Busy       []string       `json:"busy,omitempty"`
}

// NamedNoise is one trial's noise (nil when /proc could not tell) and the
// name a busy line gives the trial.
type NamedNoise struct {
	Name  string
	Noise *Noise
}

// SummarizeNoise summarises the noise of trials, naming the busy ones
// (Noise.BusyText) in their order.
func SummarizeNoise(trials []NamedNoise) NoiseFigures {
	var nf NoiseFigures
	var other, steal, load []float64
	for _, t := range trials {
		if t.Noise == nil {
			continue
		}
		other, steal, load = append(other, t.Noise.OtherCores), append(steal, t.Noise.Steal), append(load, t.Noise.Load1)
		if t.Noise.Busy() {
			nf.Busy = append(nf.Busy, t.Noise.BusyText(t.Name))
		}
	}
	nf.OtherCores, nf.Steal, nf.Load1 = stats.Summarize(other), stats.Summarize(steal), stats.Summarize(load)
	return nf
}

func aggregateNoise(sum *Summary) NoiseFigures {
	var trials []NamedNoise
	for _, m := range sum.Modes {
		for _, t := range m.Trials() {
			trials = append(trials, NamedNoise{Name: fmt.Sprintf("%s, round %d", m.Mode, t.RoundOf()), Noise: t.Noise})
		}
	}
	return SummarizeNoise(trials)
}
