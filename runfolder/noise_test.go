package runfolder

import (
	"strings"
	"testing"
)

func TestNoiseBusy(t *testing.T) {
	for _, c := range []struct {
		n    Noise
		busy bool
	}{
		{Noise{}, false},
		{Noise{OtherCores: BusyShare}, false},
		{Noise{OtherCores: BusyShare + 0.01}, true},
		{Noise{Steal: BusySteal}, false},
		{Noise{Steal: BusySteal + 0.01}, true},
		{Noise{Load1: 40}, false}, // the load average alone says nothing of this trial
	} {
		if got := c.n.Busy(); got != c.busy {
			t.Errorf("%+v: busy %v, want %v", c.n, got, c.busy)
		}
	}
}

func TestSummarizeNoiseNamesTheBusyTrials(t *testing.T) {
	nf := SummarizeNoise([]NamedNoise{
		{Name: "standard, round 1", Noise: &Noise{OtherCores: 0.01, Load1: 0.5}},
		{Name: "shared, round 1"}, // /proc could not tell
		{Name: "shared, round 2", Noise: &Noise{OtherCores: 0.9, Steal: 0.002, Load1: 2.5}},
	})
	if nf.OtherCores.N != 2 || nf.Load1.N != 2 {
		t.Errorf("figures over %d, %d trials, want the 2 with noise", nf.OtherCores.N, nf.Load1.N)
	}
	want := []string{"shared, round 2: other processes used 0.90 cores, steal 0.2 %, load 2.50"}
	if strings.Join(nf.Busy, "|") != strings.Join(want, "|") {
		t.Errorf("busy %q, want %q", nf.Busy, want)
	}
	if quiet := SummarizeNoise([]NamedNoise{{Name: "a", Noise: &Noise{OtherCores: 0.01}}}); len(quiet.Busy) != 0 {
		t.Errorf("a quiet trial called busy: %q", quiet.Busy)
	}
}

func TestBusyWarning(t *testing.T) {
	if got := BusyWarning(nil); got != "" {
		t.Errorf("a warning without busy trials: %q", got)
	}
	want := "\n> **Warning: the machine was busy** in 2 trial(s) (other processes used more than 0.25 of a core, " +
		"or the hypervisor stole more than 5 %); their figures may have moved with it:\n>\n> - a\n> - b\n"
	if got := BusyWarning([]string{"a", "b"}); got != want {
		t.Errorf("warning\n%q\nwant\n%q", got, want)
	}
}
