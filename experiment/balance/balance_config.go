package balance

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/flipbench/flipbench/loadtest"
	"github.com/flipbench/flipbench/trial"
)

// Targets of the balance experiment.
const (
	TargetFlip  = "flip"  // POST /flip: every connection carries a job
	TargetHello = "hello" // GET /: connections that carry no work
)

// Defaults of a Config.
const (
	DefaultRuns = 20
	DefaultOut  = "results/balance"
	// FileJSON and FileMD are the balance run's data and
	// summary.
	FileJSON = "balance.json"
	FileMD   = "balance.md"
)

// DefaultSizes returns the burst sizes of the balance experiment.
func DefaultSizes() []int { return []int{10, 20} }

// Config is what Balance does; zero values take the defaults noted.
type Config struct {
	trial.Settings          // Out: DefaultOut; Warmups for TargetFlip only
	Policies       []string // Balance names; PolicyNames()
	Sizes          []int    // burst sizes; DefaultSizes()
	Runs           int      // bursts per policy and size; DefaultRuns
	// Workers is the worker count of every cluster (0: the mode's own, one
	// per core).
	Workers int
	// Args are flags appended to every policy's command line, after
	// -workers; a flag given twice takes its last value (the gate injects
	// a cluster without its gate this way).
	Args   []string
	Target string // TargetFlip or TargetHello; TargetFlip
	// Timeout is the client timeout of every request; 0 picks bench's per
	// burst size.
	Timeout time.Duration
}

func (c *Config) fill() {
	c.Fill(DefaultOut)
	c.Target = cmp.Or(c.Target, TargetFlip)
	c.Runs = cmp.Or(c.Runs, DefaultRuns)
	if c.Policies == nil {
		c.Policies = PolicyNames()
	}
	// Report order, whatever the command line's.
	c.Policies = slices.Clone(c.Policies)
	slices.SortStableFunc(c.Policies, func(a, b string) int {
		return cmp.Compare(slices.Index(PolicyNames(), a), slices.Index(PolicyNames(), b))
	})
	if c.Sizes == nil {
		c.Sizes = DefaultSizes()
	}
}

func (c *Config) validate() error {
	for _, p := range c.Policies {
		if !slices.Contains(PolicyNames(), p) {
			return fmt.Errorf("unknown policy %q (known: %s)", p, strings.Join(PolicyNames(), ", "))
		}
	}
	for _, n := range c.Sizes {
		if n < 1 || n > loadtest.MaxLevel {
			return fmt.Errorf("burst size %d out of range (1 to %d)", n, loadtest.MaxLevel)
		}
	}
	switch {
	case len(c.Policies) == 0 || len(c.Sizes) == 0:
		return errors.New("no policies or no sizes to run")
	case c.Runs < 1:
		return fmt.Errorf("runs: need at least 1, got %d", c.Runs)
	case c.Workers < 0:
		return fmt.Errorf("workers: %d is negative", c.Workers)
	case c.Target != TargetFlip && c.Target != TargetHello:
		return fmt.Errorf("target %q: want %s or %s", c.Target, TargetFlip, TargetHello)
	}
	return c.Settings.Validate()
}
