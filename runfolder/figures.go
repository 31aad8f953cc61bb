package runfolder

import "github.com/flipbench/flipbench/internal/stats"

// Figures are the run's figures over its rounds, each a median with its
// interval (stats.Interval: a 95 % confidence interval, or min–max when the
// rounds are too few for one). Durations are in seconds.
type Figures struct {
	S         stats.Interval     `json:"s_seconds"`
	Bursts    []BurstFigures     `json:"bursts"`
	KeepAlive []KeepAliveFigures `json:"keepalive,omitempty"`
	// Rates are the open-model steps' figures, Capacity each mode's answer
	// at the run's SLO (RateSLO).
	Rates    []RateFigures  `json:"rates,omitempty"`
	Capacity []RateCapacity `json:"capacity,omitempty"`
	Noise    NoiseFigures   `json:"noise"`
	// NoIdeal names the modes on another engine than S's (see HasIdeal).
	NoIdeal []string `json:"no_ideal,omitempty"`
}

// BurstFigures are one mode's figures at one burst size.
type BurstFigures struct {
	Mode      string `json:"mode"`
	Level     int    `json:"level"`
	Rounds    int    `json:"rounds"`
	Requests  int    `json:"requests"`  // summed over the rounds
	Successes int    `json:"successes"` // summed over the rounds
	// Durations, in seconds.
	FirstAnswer stats.Interval `json:"first_answer"`
	Median      stats.Interval `json:"median"`
	P99         stats.Interval `json:"p99"`
	Makespan    stats.Interval `json:"makespan"`
	Throughput  stats.Interval `json:"throughput"`
	Efficiency  stats.Interval `json:"efficiency"`
	// Speedup is throughput over BaselineMode's in the same round, paired
	// round by round; VsBaseline tests the two throughputs for a difference.
	Speedup    stats.Interval    `json:"speedup"`
	VsBaseline *stats.Comparison `json:"vs_baseline,omitempty"`
	PeakRSS    stats.Interval    `json:"peak_rss_bytes"`
	// Splits are the per-worker answer counts of each round ("6/4").
	Splits []string `json:"splits,omitempty"`
	// Noisy names the figures whose interval is wider than ±5 %.
	Noisy []string `json:"noisy,omitempty"`
}

// KeepAliveFigures are one mode's figures with C keep-alive clients.
type KeepAliveFigures struct {
	Mode       string            `json:"mode"`
	Clients    int               `json:"clients"`
	Rounds     int               `json:"rounds"`
	Throughput stats.Interval    `json:"throughput"`
	P50        stats.Interval    `json:"p50"`
	P99        stats.Interval    `json:"p99"`
	Fairness   stats.Interval    `json:"fairness"`
	Starved    stats.Interval    `json:"starved"`
	Speedup    stats.Interval    `json:"speedup"`
	VsBaseline *stats.Comparison `json:"vs_baseline,omitempty"`
	Noisy      []string          `json:"noisy,omitempty"`
}

// Aggregate computes the run's Figures from its trials.
func Aggregate(sum *Summary) *Figures {
	f := &Figures{Noise: aggregateNoise(sum), S: stats.Summarize(roundSs(sum)), NoIdeal: noIdeal(sum)}
	f.Rates = RateOf(sum)
	f.Capacity = Capacities(f.Rates, RateSLO(sum))
	base, _ := sum.Mode(sum.BaselineName())
	for _, n := range sum.Levels {
		for _, m := range sum.Modes {
			if bf, ok := burstFigures(sum, m, base, n); ok {
				f.Bursts = append(f.Bursts, bf)
			}
		}
	}
	for _, c := range sum.Clients {
		for _, m := range sum.Modes {
			if kf, ok := keepAliveFigures(m, base, c); ok {
				f.KeepAlive = append(f.KeepAlive, kf)
			}
		}
	}
	return f
}

// roundSs returns every round's S in seconds (the run's S in runs stored
// before rounds).
func roundSs(sum *Summary) []float64 {
	var ss []float64
	for _, r := range sum.Rounds {
		if r.S != nil {
			ss = append(ss, r.S.S.D().Seconds())
		}
	}
	if len(ss) == 0 && sum.S != nil {
		ss = append(ss, sum.S.S.D().Seconds())
	}
	return ss
}

// burstFigures are m's figures at n, each burst's efficiency derived from
// its round's S.
func burstFigures(sum *Summary, m, base ModeRun, n int) (BurstFigures, bool) {
	bf := BurstFigures{Mode: m.Mode, Level: n}
	var first, med, p99, span, tput, eff, rss []float64
	for _, t := range m.Trials() {
		l, ok := t.Level(n)
		if !ok {
			continue
		}
		bf.Rounds++
		bf.Requests += l.Requests
		bf.Successes += l.Successes
		first = append(first, l.FirstAnswer.D().Seconds())
		med = append(med, l.Latency.Median.D().Seconds())
		p99 = append(p99, l.Latency.P99.D().Seconds())
		span = append(span, l.Makespan.D().Seconds())
		tput = append(tput, l.Throughput)
		if e := sum.BurstIdeal(t, l).Efficiency; e > 0 {
			eff = append(eff, e)
		}
		rss = append(rss, float64(l.ServerPeakRSS))
		if len(l.Workers) > 1 {
			bf.Splits = append(bf.Splits, l.WorkerSplit())
		}
	}
	if bf.Rounds == 0 {
		return bf, false
	}
	bf.FirstAnswer, bf.Median, bf.P99, bf.Makespan = stats.Summarize(first), stats.Summarize(med), stats.Summarize(p99), stats.Summarize(span)
	bf.Throughput, bf.Efficiency, bf.PeakRSS = stats.Summarize(tput), stats.Summarize(eff), stats.Summarize(rss)
	bf.Speedup, bf.VsBaseline = against(m, base, func(t Trial) (float64, bool) {
		l, ok := t.Level(n)
		return l.Throughput, ok
	})
	bf.Noisy = noisy(map[string]stats.Interval{"first answer": bf.FirstAnswer, "median": bf.Median, "p99": bf.P99,
		"makespan": bf.Makespan, "req/s": bf.Throughput, "efficiency": bf.Efficiency, "speedup": bf.Speedup})
	return bf, true
}

func keepAliveFigures(m, base ModeRun, c int) (KeepAliveFigures, bool) {
	kf := KeepAliveFigures{Mode: m.Mode, Clients: c}
	var tput, p50, p99, fair, starved []float64
	for _, t := range m.Trials() {
		k, ok := t.Clients(c)
		if !ok {
			continue
		}
		kf.Rounds++
		tput = append(tput, k.Throughput)
		p50 = append(p50, k.Latency.Median.D().Seconds())
		p99 = append(p99, k.Latency.P99.D().Seconds())
		fair = append(fair, k.Fairness)
		starved = append(starved, float64(k.Starved))
	}
	if kf.Rounds == 0 {
		return kf, false
	}
	kf.Throughput, kf.P50, kf.P99 = stats.Summarize(tput), stats.Summarize(p50), stats.Summarize(p99)
	kf.Fairness, kf.Starved = stats.Summarize(fair), stats.Summarize(starved)
	kf.Speedup, kf.VsBaseline = against(m, base, func(t Trial) (float64, bool) {
		k, ok := t.Clients(c)
		return k.Throughput, ok
	})
	kf.Noisy = noisy(map[string]stats.Interval{"answers/s": kf.Throughput, "p50": kf.P50, "p99": kf.P99, "speedup": kf.Speedup})
	return kf, true
}

// against returns m's speedup over base, paired round by round (a trial's
// throughput, as tput reads it, over base's trial of the same round), and
// the U test of the two samples of throughputs (nil for base itself).
func against(m, base ModeRun, tput func(Trial) (float64, bool)) (stats.Interval, *stats.Comparison) {
	var speedups, mine, theirs []float64
	for _, t := range m.Trials() {
		v, ok := tput(t)
		if !ok {
			continue
		}
		mine = append(mine, v)
		if bt := base.RoundTrial(t.RoundOf()); bt != nil {
			if bv, ok := tput(*bt); ok && bv > 0 {
				speedups = append(speedups, v/bv)
			}
		}
	}
	for _, t := range base.Trials() {
		if v, ok := tput(t); ok {
			theirs = append(theirs, v)
		}
	}
	if m.Mode == base.Mode || len(theirs) == 0 {
		return stats.Summarize(speedups), nil
	}
	c := stats.Compare(mine, theirs)
	return stats.Summarize(speedups), &c
}

// noisy names the figures of figs that are noisy, in a stable order.
func noisy(figs map[string]stats.Interval) []string {
	var out []string
	for _, name := range []string{"first answer", "median", "p50", "p99", "makespan", "req/s", "answers/s", "efficiency", "speedup"} {
		if iv, ok := figs[name]; ok && iv.Noisy() {
			out = append(out, name)
		}
	}
	return out
}
