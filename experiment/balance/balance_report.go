package balance

import (
	"cmp"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/flipbench/flipbench/experiment"
	"github.com/flipbench/flipbench/report"
	"github.com/flipbench/flipbench/runfolder"
)

// WithinIdeal is the makespan / ideal a run must stay at or under to count
// as near the ideal in the summary.
const WithinIdeal = 1.1

// Spread is the minimum, median (the lower middle for an even count) and
// maximum of a set of values.
type Spread struct{ Min, Median, Max float64 }

// NewSpread summarises vs (which it does not change).
func NewSpread(vs []float64) Spread {
	if len(vs) == 0 {
		return Spread{}
	}
	s := slices.Clone(vs)
	slices.Sort(s)
	return Spread{Min: s[0], Median: s[(len(s)-1)/2], Max: s[len(s)-1]}
}

// Stats summarises a policy's trials of one burst size.
type Stats struct {
	Balance, Mode string
	Size, Runs    int
	Requests      int // answers asked for over every run
	Successes     int
	Workers       int    // the cluster's
	MaxShare      Spread // the busiest worker's share of a run's answers
	Top2Share     Spread // the two busiest workers' share of a run's answers
	Ratio         Spread // makespan / ideal (flip only)
	// Within is the share of runs with a makespan at most WithinIdeal × ideal.
	Within float64
	// Splits counts the runs of each split, most frequent first.
	Splits []SplitCount
	// OverallTop2 is the two busiest workers' share of every answer of every
	// run (per worker pid: the server ran once, so a pid is one worker).
	OverallTop2 float64
}

// SplitCount is how many runs split their answers as Split does.
type SplitCount struct {
	Split string
	Runs  int
}

// Stats summarises every policy that ran, by policy and size in order.
func (r *Result) Stats() []Stats {
	var out []Stats
	for _, pr := range r.Policies {
		for _, n := range r.Sizes {
			st := Stats{Balance: pr.Balance, Mode: pr.Mode, Size: n, Workers: max(pr.Spec.Workers, 1)}
			var maxShare, top2, ratio []float64
			splits := map[string]int{}
			total := map[string]int{}
			within := 0
			for _, t := range pr.Trials {
				if t.Size != n {
					continue
				}
				st.Runs++
				st.Requests += n
				st.Successes += t.Successes
				maxShare = append(maxShare, t.TopShare(1))
				top2 = append(top2, t.TopShare(2))
				splits[formatSplit(t.Split)]++
				for pid, c := range t.Workers {
					total[pid] += c
				}
				if t.Ratio > 0 {
					ratio = append(ratio, t.Ratio)
					if t.Ratio <= WithinIdeal {
						within++
					}
				}
			}
			if st.Runs == 0 {
				continue
			}
			st.MaxShare, st.Top2Share, st.Ratio = NewSpread(maxShare), NewSpread(top2), NewSpread(ratio)
			if len(ratio) > 0 {
				st.Within = float64(within) / float64(len(ratio))
			}
			for sp, c := range splits {
				st.Splits = append(st.Splits, SplitCount{Split: sp, Runs: c})
			}
			slices.SortFunc(st.Splits, func(a, b SplitCount) int {
				return cmp.Or(b.Runs-a.Runs, strings.Compare(a.Split, b.Split))
			})
			counts := make([]int, 0, len(total))
			for _, c := range total {
				counts = append(counts, c)
			}
			st.OverallTop2 = (Trial{Split: sortedDesc(counts)}).TopShare(2)
			out = append(out, st)
		}
	}
	return out
}

func sortedDesc(cs []int) []int {
	slices.Sort(cs)
	slices.Reverse(cs)
	return cs
}

// Write renders run into dir, the plots and balance.md, and returns what
// balance.md says.
func Write(dir string, run *Result) (string, error) {
	plots, err := balancePlots(dir, run)
	if err != nil {
		return "", err
	}
	md := Render(run, plots)
	if err := os.WriteFile(filepath.Join(dir, FileMD), []byte(md), 0o644); err != nil {
		return md, fmt.Errorf("write balance summary: %w", err)
	}
	return md, nil
}

// Render returns balance.md for run, showing plots.
func Render(run *Result, plots []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Balance: how connections reach workers (%s)\n\n", run.Run)
	workers := "each cluster's own worker count (one per core)"
	if run.Workers > 0 {
		workers = fmt.Sprintf("%d workers per cluster", run.Workers)
	}
	if run.Target == TargetFlip {
		fmt.Fprintf(&b, "Target: `POST /flip` (every connection carries a job). %d runs per policy and burst size, "+
			"each burst on fresh connections (one per request), one round per run (every policy's server started for it, in a rotating order), %s. "+
			"Ideal = ceil(N / capacity) × S, with S = %s from a burst of 10 on standard after its warm-up (the time between its answers).\n\n", run.Runs, workers, run.S)
	} else {
		fmt.Fprintf(&b, "Target: `GET /` (the pid: connections that carry no work). %d runs per policy and burst size, "+
			"each burst on fresh connections (one per request), one round per run (every policy's server started for it, in a rotating order), %s. "+
			"A hello world has no job time, so there is no ideal makespan: what counts is where the connections went.\n\n", run.Runs, workers)
	}
	b.WriteString(run.LoadText())
	report.WriteNoise(&b, runfolder.SummarizeNoise(run.noise()))
	stats := run.Stats()
	if run.Target == TargetFlip {
		b.WriteString("| policy | mode | N | runs | ok | busiest worker's share min / median / max | makespan / ideal min / median / max | within 1.1 × ideal | splits (runs) |\n")
		b.WriteString("|---|---|---:|---:|---:|---|---|---:|---|\n")
		for _, s := range stats {
			fmt.Fprintf(&b, "| %s | %s | %d | %d | %d/%d | %s | %s | %.0f%% | %s |\n", s.Balance, s.Mode, s.Size, s.Runs,
				s.Successes, s.Requests, shares(s.MaxShare), ratios(s.Ratio), 100*s.Within, splitsText(s.Splits, 6))
		}
	} else {
		b.WriteString("| policy | mode | workers | N | runs | ok | top 2 workers' share of all connections | top 2 per run min / median / max | busiest per run min / median / max |\n")
		b.WriteString("|---|---|---:|---:|---:|---:|---:|---|---|\n")
		for _, s := range stats {
			fmt.Fprintf(&b, "| %s | %s | %d | %d | %d | %d/%d | %.0f%% | %s | %s |\n", s.Balance, s.Mode, s.Workers, s.Size, s.Runs,
				s.Successes, s.Requests, 100*s.OverallTop2, shares(s.Top2Share), shares(s.MaxShare))
		}
		b.WriteString("\nNode's docs on SCHED_NONE: \"over 70% of all connections ended up in just two processes, out of a total of eight\". " +
			"A fair split of 8 gives the top two 25%.\n")
	}
	var skipped, problems []string
	for _, p := range run.Policies {
		if p.Skipped != "" {
			skipped = append(skipped, fmt.Sprintf("- %s: %s", p.Balance, p.Skipped))
		}
		for _, pr := range p.Problems {
			problems = append(problems, fmt.Sprintf("- %s: %s", p.Balance, pr))
		}
	}
	if len(skipped) > 0 {
		b.WriteString("\nSkipped:\n\n" + strings.Join(skipped, "\n") + "\n")
	}
	experiment.WriteTail(&b, problems, plots, "Every run's split and ratio: balance.json; its raw results: <policy>/burst-<N>-run-<K>.bin (vegeta report reads them).")
	return b.String()
}

// noise is every run's noise, named by its policy and run.
func (r *Result) noise() []runfolder.NamedNoise {
	var out []runfolder.NamedNoise
	for _, p := range r.Policies {
		for _, n := range p.Noise {
			out = append(out, runfolder.NamedNoise{Name: fmt.Sprintf("%s, round %d", p.Balance, n.Run), Noise: &n.Noise})
		}
	}
	return out
}

func shares(s Spread) string {
	return fmt.Sprintf("%.0f%% / %.0f%% / %.0f%%", 100*s.Min, 100*s.Median, 100*s.Max)
}

func ratios(s Spread) string {
	if s.Max == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f / %.2f / %.2f", s.Min, s.Median, s.Max)
}

// splitsText lists the first n splits as "5/5 ×3, 6/4 ×8".
func splitsText(ss []SplitCount, n int) string {
	var parts []string
	for i, s := range ss {
		if i == n {
			parts = append(parts, fmt.Sprintf("… %d more", len(ss)-n))
			break
		}
		parts = append(parts, fmt.Sprintf("%s ×%d", s.Split, s.Runs))
	}
	return strings.Join(parts, ", ")
}
