package bench

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/flipbench/flipbench/loadtest"
)

// ParseLevels reads a comma-separated list of burst sizes such as
// "10,100,1000", refusing non-numbers, sizes below 1 or above loadtest.MaxLevel,
// duplicates and an empty list.
func ParseLevels(s string) ([]int, error) {
	levels, err := parseCounts(s, "level", loadtest.MaxLevel)
	if err == nil && len(levels) == 0 {
		err = fmt.Errorf("no levels in %q: want sizes like 10,100,1000", s)
	}
	return levels, err
}

// ParseClients reads a comma-separated list of keep-alive client counts such
// as "10,100"; "none" (or "") is no keep-alive run at all.
func ParseClients(s string) ([]int, error) {
	if strings.TrimSpace(s) == "none" {
		return nil, nil
	}
	return parseCounts(s, "client count", loadtest.MaxClients)
}

// parseCounts reads a comma-separated list of distinct whole numbers from 1
// to limit, each called what in errors.
func parseCounts(s, what string, limit int) ([]int, error) {
	var ns []int
	for f := range strings.SplitSeq(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil {
			return nil, fmt.Errorf("%s %q is not a whole number", what, f)
		}
		if n < 1 || n > limit {
			return nil, fmt.Errorf("%s %d out of range (1 to %d)", what, n, limit)
		}
		if slices.Contains(ns, n) {
			return nil, fmt.Errorf("%s %d listed twice", what, n)
		}
		ns = append(ns, n)
	}
	return ns, nil
}
