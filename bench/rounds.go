package bench

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Runs is how many rounds a run makes: Default for every level and for the
// keep-alive clients, PerLevel for the levels that ask for their own (a
// burst of 1000 on one core takes 17 minutes: one is often enough).
type Runs struct {
	Default  int
	PerLevel map[int]int
}

// MaxRuns bounds -runs: a round restarts every server.
const MaxRuns = 100

// ParseRuns reads -runs: "5" (five rounds of everything), or a default and
// per-level counts such as "5,1000=1"; "10=5,100=5,1000=1" lists every
// level (an unlisted one then runs once).
func ParseRuns(s string) (Runs, error) {
	r := Runs{PerLevel: map[int]int{}}
	for f := range strings.SplitSeq(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		level, count, per := strings.Cut(f, "=")
		if !per {
			count = level
		}
		k, err := strconv.Atoi(strings.TrimSpace(count))
		if err != nil || k < 1 || k > MaxRuns {
			return Runs{}, fmt.Errorf("runs %q: want a count from 1 to %d", f, MaxRuns)
		}
		if !per {
			if r.Default != 0 {
				return Runs{}, fmt.Errorf("runs %q: two default counts", s)
			}
			r.Default = k
			continue
		}
		n, err := strconv.Atoi(strings.TrimSpace(level))
		if err != nil || n < 1 {
			return Runs{}, fmt.Errorf("runs %q: %q is not a burst size", f, level)
		}
		if _, dup := r.PerLevel[n]; dup {
			return Runs{}, fmt.Errorf("runs: level %d listed twice", n)
		}
		r.PerLevel[n] = k
	}
	if r.Default == 0 && len(r.PerLevel) == 0 {
		return Runs{}, fmt.Errorf("no runs in %q: want a count like 5 or 5,1000=1", s)
	}
	r.Default = max(r.Default, 1)
	return r, nil
}

// For returns the rounds of level n.
func (r Runs) For(n int) int {
	if k, ok := r.PerLevel[n]; ok {
		return k
	}
	return max(r.Default, 1)
}

// Rounds returns how many rounds a run of levels makes: the most any level
// or the keep-alive clients ask for.
func (r Runs) Rounds(levels []int) int {
	k := max(r.Default, 1)
	for _, n := range levels {
		k = max(k, r.For(n))
	}
	return k
}

// String renders r as ParseRuns reads it.
func (r Runs) String() string {
	parts := []string{strconv.Itoa(max(r.Default, 1))}
	keys := make([]int, 0, len(r.PerLevel))
	for n := range r.PerLevel {
		keys = append(keys, n)
	}
	slices.Sort(keys)
	for _, n := range keys {
		parts = append(parts, fmt.Sprintf("%d=%d", n, r.PerLevel[n]))
	}
	return strings.Join(parts, ",")
}

// RoundLevels returns the levels that run in round round (from 1): a level
// runs in its first For(n) rounds.
func (r Runs) RoundLevels(levels []int, round int) []int {
	var out []int
	for _, n := range levels {
		if round <= r.For(n) {
			out = append(out, n)
		}
	}
	return out
}
