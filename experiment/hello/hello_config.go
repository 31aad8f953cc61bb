package hello

import (
	"cmp"
	"errors"
	"fmt"
	"time"

	"github.com/flipbench/flipbench/trial"
)

// Defaults of a Config.
const (
	DefaultStartRate = 500
	DefaultFactor    = 2.0
	DefaultStep      = 3 * time.Second
	DefaultMaxRate   = 32000
	DefaultBound     = 50 * time.Millisecond
	DefaultTries     = 2
	// DefaultOut is the run folder of a hello run.
	DefaultOut = "results/hello"
	// FileJSON is the hello run's data.
	FileJSON = "hello.json"
	// minSentShare is the share of a step's rate the driver must have sent
	// for the step to count: below it, the load generator (on the same
	// cores) is what gave out, not the server.
	minSentShare = 0.9
)

// DefaultModes returns the modes the hello workload runs when none are named:
// every Go mode of the mode table, so a cluster policy joins as soon as it
// has its mode.
func DefaultModes() []string {
	var names []string
	for _, m := range trial.Modes() {
		if m.Family == trial.FamilyGo {
			names = append(names, m.Name)
		}
	}
	return names
}

// Config is what Hello does; zero values take the defaults noted.
type Config struct {
	// Settings: its Image is only checked by the servers at start (GET /
	// never reads it), Warmups unused; Out is DefaultOut.
	trial.Settings
	Modes     []string      // DefaultModes()
	StartRate int           // requests per second of the first step; DefaultStartRate
	Factor    float64       // each step's rate over the last's; DefaultFactor
	Step      time.Duration // how long each rate is held; DefaultStep
	MaxRate   int           // no step goes past this rate; DefaultMaxRate
	Bound     time.Duration // the p99 a step may not pass; DefaultBound
	// Tries is how often a rate is held before its failure counts; on a
	// shared machine one hiccup of another process can push a short step's
	// p99 past the bound. DefaultTries.
	Tries int
	// Timeout is the client timeout of each request; 0 is 20 × Bound, at
	// least a second: an answer that late has failed the step anyway.
	Timeout time.Duration
}

func (c *Config) fill() {
	c.Fill(DefaultOut)
	c.StartRate = cmp.Or(c.StartRate, DefaultStartRate)
	c.Factor = cmp.Or(c.Factor, DefaultFactor)
	c.Step = cmp.Or(c.Step, DefaultStep)
	c.MaxRate = cmp.Or(c.MaxRate, DefaultMaxRate)
	c.Bound = cmp.Or(c.Bound, DefaultBound)
	c.Tries = cmp.Or(c.Tries, DefaultTries)
	c.Timeout = cmp.Or(c.Timeout, max(20*c.Bound, time.Second))
	if c.Modes == nil {
		c.Modes = DefaultModes()
	}
}

func (c *Config) validate() error {
	if len(c.Modes) == 0 {
		return errors.New("no modes to run")
	}
	for _, m := range c.Modes {
		if _, err := c.ModeTable().Lookup(m); err != nil {
			return err
		}
	}
	switch {
	case c.StartRate < 1:
		return fmt.Errorf("start rate %d: must be positive", c.StartRate)
	case c.Factor <= 1:
		return fmt.Errorf("rate factor %g: must be above 1", c.Factor)
	case c.Step <= 0 || c.Bound <= 0 || c.Timeout <= 0:
		return errors.New("step, bound and timeout must be positive")
	case c.Tries < 1:
		return fmt.Errorf("tries %d: need at least 1", c.Tries)
	case c.MaxRate < c.StartRate:
		return fmt.Errorf("max rate %d is below the start rate %d", c.MaxRate, c.StartRate)
	}
	return c.Settings.Validate()
}
