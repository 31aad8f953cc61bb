package loadtest

import (
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Mode names, in the order reports list them.
const (
	ModeStandard  = "standard"  // one process, GOMAXPROCS=1: the article's single Node process
	ModeThreaded  = "threaded"  // one process, GOMAXPROCS=cores: Go's own answer
	ModeClustered = "clustered" // a master and one worker per core behind SO_REUSEPORT
	ModeShared    = "shared"    // the same cluster sharing one accept socket
)

// ModeNames returns every mode Bench knows, in report order.
func ModeNames() []string {
	return []string{ModeStandard, ModeThreaded, ModeClustered, ModeShared}
}

// DefaultModes returns the modes bench runs when none are asked for.
func DefaultModes() []string {
	return []string{ModeStandard, ModeClustered, ModeThreaded, ModeShared}
}

// ModeSpec says how to start the server of one mode. Bench adds -addr, -image
// and -tmpdir to Args.
type ModeSpec struct {
	Name   string   `json:"name"`
	Binary string   `json:"binary"`
	Args   []string `json:"args"`
	// Workers is the number of processes that answer requests (1 unless the
	// mode is a cluster). When /healthz is answered by a cluster worker
	// (worker >= 0), the server's capacity is its capacity × Workers.
	Workers int `json:"workers"`
	// Capacity is the number of jobs the mode runs at once when /healthz does
	// not say.
	Capacity int `json:"capacity"`
}

// Spec returns how to run the mode called name from the binaries in binDir on
// a machine with cpus cores.
func Spec(name, binDir string, cpus int) (ModeSpec, error) {
	if cpus < 1 {
		return ModeSpec{}, fmt.Errorf("mode %s: need at least 1 core, got %d", name, cpus)
	}
	n := strconv.Itoa(cpus)
	switch name {
	case ModeStandard:
		return ModeSpec{Name: name, Binary: filepath.Join(binDir, "standard"), Args: []string{"-procs", "1"}, Workers: 1, Capacity: 1}, nil
	case ModeThreaded:
		return ModeSpec{Name: name, Binary: filepath.Join(binDir, "standard"), Args: []string{"-procs", n}, Workers: 1, Capacity: cpus}, nil
	case ModeClustered:
		return ModeSpec{Name: name, Binary: filepath.Join(binDir, "clustered"), Args: []string{"-workers", n, "-balance", "reuseport"}, Workers: cpus, Capacity: cpus}, nil
	case ModeShared:
		return ModeSpec{Name: name, Binary: filepath.Join(binDir, "clustered"), Args: []string{"-workers", n, "-balance", "shared"}, Workers: cpus, Capacity: cpus}, nil
	default:
		return ModeSpec{}, fmt.Errorf("unknown mode %q (known: %s)", name, strings.Join(ModeNames(), ", "))
	}
}

// ParseModes reads a comma-separated list of mode names, refusing unknown
// names, duplicates and an empty list.
func ParseModes(s string) ([]string, error) {
	var modes []string
	for f := range strings.SplitSeq(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if !slices.Contains(ModeNames(), f) {
			return nil, fmt.Errorf("unknown mode %q (known: %s)", f, strings.Join(ModeNames(), ", "))
		}
		if slices.Contains(modes, f) {
			return nil, fmt.Errorf("mode %q listed twice", f)
		}
		modes = append(modes, f)
	}
	if len(modes) == 0 {
		return nil, fmt.Errorf("no modes in %q (known: %s)", s, strings.Join(ModeNames(), ", "))
	}
	return modes, nil
}

// MaxLevel is the largest burst ParseLevels accepts.
const MaxLevel = 100000

// ParseLevels reads a comma-separated list of burst sizes such as
// "10,100,1000", refusing non-numbers, sizes below 1 or above MaxLevel,
// duplicates and an empty list.
func ParseLevels(s string) ([]int, error) {
	var levels []int
	for f := range strings.SplitSeq(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil {
			return nil, fmt.Errorf("level %q is not a whole number", f)
		}
		if n < 1 || n > MaxLevel {
			return nil, fmt.Errorf("level %d out of range (1 to %d)", n, MaxLevel)
		}
		if slices.Contains(levels, n) {
			return nil, fmt.Errorf("level %d listed twice", n)
		}
		levels = append(levels, n)
	}
	if len(levels) == 0 {
		return nil, fmt.Errorf("no levels in %q: want sizes like 10,100,1000", s)
	}
	return levels, nil
}

// modeOrder sorts mode names in report order, unknown names last by name.
func modeOrder(a, b string) int {
	ia, ib := slices.Index(ModeNames(), a), slices.Index(ModeNames(), b)
	switch {
	case ia >= 0 && ib >= 0:
		return ia - ib
	case ia >= 0:
		return -1
	case ib >= 0:
		return 1
	default:
		return strings.Compare(a, b)
	}
}
