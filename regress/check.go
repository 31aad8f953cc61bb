package regress

import (
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"text/tabwriter"

	"github.com/flipbench/flipbench/internal/stats"
)

// Verdicts of one metric.
const (
	Pass      = "ok"
	Improved  = "improved"
	Regressed = "REGRESSED"
	Missing   = "MISSING"
	// New is a metric measured that the baseline does not hold yet (make
	// baseline adds it): reported, never a failure, so a gate that gains a
	// metric stays green until the baseline is remade on a quiet machine.
	New = "new: no baseline"
)

// Verdict is one row of the gate's table.
type Verdict struct {
	Metric    string  `json:"metric"`
	Baseline  float64 `json:"baseline"`
	Now       float64 `json:"now"`
	Change    float64 `json:"change"` // (now - baseline) / baseline
	Tolerance float64 `json:"tolerance"`
	Better    Better  `json:"better"`
	Verdict   string  `json:"verdict"`
	// P is the Mann-Whitney U test's p between the baseline's samples and
	// today's; Tested is false when the samples are too few for the test
	// to reach stats.Alpha (the tolerance alone decides then).
	P      float64 `json:"p"`
	Tested bool    `json:"tested"`
}

// Check compares measured medians and their samples with the baseline. A
// metric regresses when it moves the wrong way by more than its tolerance
// and, where the samples on both sides are enough to tell (stats.Testable),
// the move is significant (Mann-Whitney U at stats.Alpha): a shift the
// machine's noise explains is not a regression. A metric not measured is
// missing. A metric measured that b lacks is New, after b's. ok is false
// if any metric regressed or is missing.
func Check(b Baseline, now map[string]float64, samples map[string][]float64) (verdicts []Verdict, ok bool) {
	ok = true
	for _, name := range b.Names() {
		l := b.Metrics[name]
		v := Verdict{Metric: name, Baseline: l.Baseline, Tolerance: l.Tolerance, Better: l.Better}
		got, measured := now[name]
		if !measured || math.IsNaN(got) || math.IsInf(got, 0) {
			v.Now = math.NaN()
			v.Verdict = Missing
			ok = false
			verdicts = append(verdicts, v)
			continue
		}
		v.Now, v.P = got, 1
		if c := stats.Compare(l.Samples, samples[name]); !c.Untested {
			v.Tested, v.P = true, c.P
		}
		v.Change = (got - l.Baseline) / l.Baseline
		worse := v.Change // how much worse, as a positive share
		if l.Better == Higher {
			worse = -v.Change
		}
		switch {
		case worse > l.Tolerance && v.Tested && v.P > stats.Alpha:
			v.Verdict = Pass // beyond the tolerance, but within the noise
		case worse > l.Tolerance:
			v.Verdict = Regressed
			ok = false
		case worse < -l.Tolerance:
			v.Verdict = Improved
		default:
			v.Verdict = Pass
		}
		verdicts = append(verdicts, v)
	}
	return append(verdicts, newVerdicts(b, now)...), ok
}

// newVerdicts are the New rows of the metrics in now that b lacks, sorted;
// their baseline, change and tolerance stay 0 (JSON holds no NaN).
func newVerdicts(b Baseline, now map[string]float64) []Verdict {
	var out []Verdict
	for _, name := range slices.Sorted(maps.Keys(now)) {
		if _, held := b.Metrics[name]; !held {
			out = append(out, Verdict{Metric: name, Now: now[name], P: 1, Verdict: New})
		}
	}
	return out
}

// Render writes the verdicts as an aligned table.
func Render(w io.Writer, verdicts []Verdict) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "metric\tbaseline\tnow\tchange\ttolerance\tbetter\tp\tverdict")
	for _, v := range verdicts {
		if v.Verdict == New {
			fmt.Fprintf(tw, "%s\t-\t%.4g\t-\t-\t-\t-\t%s\n", v.Metric, v.Now, v.Verdict)
			continue
		}
		p := "untested"
		if v.Tested {
			p = fmt.Sprintf("%.3f", v.P)
		}
		fmt.Fprintf(tw, "%s\t%.4g\t%.4g\t%+.1f%%\t%.0f%%\t%s\t%s\t%s\n",
			v.Metric, v.Baseline, v.Now, 100*v.Change, 100*v.Tolerance, v.Better, p, v.Verdict)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write table: %w", err)
	}
	return nil
}
