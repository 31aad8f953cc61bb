package bench

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/flipbench/flipbench/internal/procfs"
	"github.com/flipbench/flipbench/trial"

	"github.com/flipbench/flipbench/loadtest"
	"github.com/flipbench/flipbench/runfolder"
)

// DefaultOutDir is the run folder of a bench; the other server settings
// take package trial's defaults.
const DefaultOutDir = "results/latest"

// The -runs of a full bench and of the quick preset: K >= 5 where rounds are
// cheap, once at N = 1000 (17 minutes on standard with the full photo).
const (
	DefaultRuns = "5,1000=1"
	QuickRuns   = "3"
)

// DefaultLevels returns the burst sizes of a full bench.
func DefaultLevels() []int { return []int{10, 100, 1000} }

// QuickLevels returns the burst sizes of the quick preset: 50, not 100, so
// that its three rounds fit in two minutes on 2 cores (a burst of 100 on
// standard alone takes 10 s a round on the small photo).
func QuickLevels() []int { return []int{10, 50} }

// DefaultClients returns the keep-alive client counts of a full bench.
func DefaultClients() []int { return []int{10, 100} }

// QuickClients returns the keep-alive client counts of the quick preset.
func QuickClients() []int { return []int{10} }

// How long keep-alive clients run when Config.ClientsDuration is 0: long
// enough for every client of a fair server to get KeepAliveRounds answers,
// ceil(C / capacity) × S each, within bounds.
const (
	KeepAliveRounds = 3
	MinKeepAlive    = 3 * time.Second
	MaxKeepAlive    = 5 * time.Minute
)

// KeepAliveDuration is how long c keep-alive clients run on a server of
// capacity jobs of time s: KeepAliveRounds rounds of a fair server, so a
// client starved by the server, not by a short run, is what Starved counts.
func KeepAliveDuration(c, capacity int, s time.Duration) time.Duration {
	d := KeepAliveRounds * loadtest.IdealMakespan(c, capacity, s)
	return min(max(d, MinKeepAlive), MaxKeepAlive).Round(time.Second)
}

// Config is what Run does; zero values take the defaults noted.
type Config struct {
	// Settings start the servers; Out is DefaultOutDir.
	trial.Settings
	Modes  []string // names, in order; the modes file's defaults
	Levels []int    // burst sizes; DefaultLevels()
	// Clients are the keep-alive client counts run after the bursts (none
	// when empty; the command line's default is DefaultClients()), each
	// for ClientsDuration (0: KeepAliveDuration per mode).
	Clients         []int
	ClientsDuration time.Duration
	// Timeout is the client timeout of every burst request; 0 picks one per
	// level, 3 × the ideal makespan + 1 minute.
	Timeout time.Duration
	// Runs is how many rounds each level runs (Runs.Default also for the
	// keep-alive clients); the zero value is one round.
	Runs     Runs
	Progress io.Writer // a progress bar with an ETA; nil draws none
	// MaxRSS is the memory guard's budget: when a server's processes
	// together hold more, its process group is killed, the burst is
	// recorded as stopped for memory, and the run goes on with the next
	// mode. 0 is trial.DefaultMaxRSSShare of the machine's memory.
	MaxRSS uint64
	// Rate is the open-model sweep run after the keep-alive clients, in
	// the rounds they run in; nil for none.
	Rate *runfolder.RatePlan
	// RateCapacity, when positive, is the capacity the open-model steps
	// are fractions of, in place of each server's reported one: the gate
	// holds a cluster short of workers to the cores it should use.
	RateCapacity int
}

func (c *Config) fill() {
	c.Fill(DefaultOutDir)
	if c.Modes == nil {
		c.Modes = c.ModeTable().Defaults()
	}
	if c.Levels == nil && c.Rate == nil {
		c.Levels = DefaultLevels()
	}
	if c.MaxRSS == 0 {
		c.MaxRSS = uint64(trial.DefaultMaxRSSShare * float64(procfs.MemTotal()))
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
	if len(c.Levels) == 0 && c.Rate == nil {
		return errors.New("no levels to run")
	}
	if err := validateRate(c.Rate); err != nil {
		return err
	}
	for _, n := range c.Levels {
		if n < 1 || n > loadtest.MaxLevel {
			return fmt.Errorf("level %d out of range (1 to %d)", n, loadtest.MaxLevel)
		}
	}
	for _, n := range c.Clients {
		if err := (loadtest.Closed{Clients: n, Requests: 1}).Validate(); err != nil {
			return err
		}
	}
	if c.ClientsDuration < 0 {
		return fmt.Errorf("keep-alive duration %s is negative", c.ClientsDuration)
	}
	if c.Timeout < 0 {
		return fmt.Errorf("timeout %s is negative", c.Timeout)
	}
	return c.Settings.Validate()
}
