package bench

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// ParseLoads reads -loads, a comma-separated list of fractions of capacity
// such as "0.5,0.8,1.2"; "none" is no open-model step. A fraction at or
// below 0, one listed twice and a list with no step are refused.
func ParseLoads(s string) ([]float64, error) {
	if strings.TrimSpace(s) == "none" {
		return nil, nil
	}
	var loads []float64
	for f := range strings.SplitSeq(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		l, err := strconv.ParseFloat(f, 64)
		if err != nil || math.IsNaN(l) || math.IsInf(l, 0) {
			return nil, fmt.Errorf("load %q is not a number", f)
		}
		if l <= 0 {
			return nil, fmt.Errorf("load %g: a fraction of capacity must be above 0", l)
		}
		if slices.Contains(loads, l) {
			return nil, fmt.Errorf("load %g listed twice", l)
		}
		loads = append(loads, l)
	}
	if len(loads) == 0 {
		return nil, fmt.Errorf("no step in %q: want fractions of capacity like 0.5,0.8,1.2", s)
	}
	return loads, nil
}
