package bench

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"time"

	"github.com/flipbench/flipbench/internal/procfs"

	"github.com/flipbench/flipbench/contract"
	"github.com/flipbench/flipbench/loadtest"
)

// Defaults of a Config.
const (
	DefaultBinDir       = "bin"
	DefaultNodeApp      = "nodeapp"
	DefaultOutDir       = "results/latest"
	DefaultWarmups      = 5
	DefaultStartTimeout = 60 * time.Second
	DefaultStopTimeout  = 60 * time.Second
)

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

// ErrProblems is wrapped by the error Run returns when every mode ran but
// some did not behave (a bad exit code, files left behind, failed warm-up).
var ErrProblems = errors.New("bench found problems")

// Config is what Run does; zero values take the defaults noted.
type Config struct {
	BinDir  string   // the Go server binaries; DefaultBinDir
	NodeApp string   // the article's Node app; DefaultNodeApp
	Modes   []string // names, in order; DefaultModes()
	Levels  []int    // burst sizes; DefaultLevels()
	// Clients are the keep-alive client counts run after the bursts (none
	// when empty; the command line's default is DefaultClients()), each
	// for ClientsDuration (0: KeepAliveDuration per mode).
	Clients         []int
	ClientsDuration time.Duration
	Image           string // the photo the servers flip; contract.DefaultImage
	Out             string // the run folder; DefaultOutDir
	// Timeout is the client timeout of every burst request; 0 picks one per
	// level, 3 × the ideal makespan + 1 minute.
	Timeout time.Duration
	Warmups int // sequential requests per trial before its bursts; DefaultWarmups
	// Runs is how many rounds each level runs (Runs.Default also for the
	// keep-alive clients); the zero value is one round.
	Runs         Runs
	Cores        int           // the core count modes size themselves by; runtime.NumCPU()
	StartTimeout time.Duration // the wait for /healthz; DefaultStartTimeout
	StopTimeout  time.Duration // the wait for an exit after SIGTERM; DefaultStopTimeout
	Progress     io.Writer     // a progress bar with an ETA; nil draws none
	Log          io.Writer     // one line per step; nil discards
	ServerEnv    []string      // KEY=VALUE added to every server's environment
	// MaxRSS is the memory guard's budget: when a server's processes
	// together hold more, its process group is killed, the burst is
	// recorded as stopped for memory, and the run goes on with the next
	// mode. 0 is DefaultMaxRSSShare of the machine's memory.
	MaxRSS uint64
	// ModeArgs appends flags to a mode's command line; a flag given twice
	// takes its last value, so this overrides the mode's own (the gate
	// injects a one-worker cluster this way).
	ModeArgs map[string][]string
	// Flags and Args are the command line, recorded in env.json.
	Flags map[string]string
	Args  []string
}

func (c *Config) fill() {
	c.BinDir = cmp.Or(c.BinDir, DefaultBinDir)
	c.NodeApp = cmp.Or(c.NodeApp, DefaultNodeApp)
	c.Image = cmp.Or(c.Image, contract.DefaultImage)
	c.Out = cmp.Or(c.Out, DefaultOutDir)
	if c.Modes == nil {
		c.Modes = DefaultModes()
	}
	if c.Levels == nil {
		c.Levels = DefaultLevels()
	}
	if c.Warmups == 0 {
		c.Warmups = DefaultWarmups
	}
	if c.Cores == 0 {
		c.Cores = runtime.NumCPU()
	}
	if c.StartTimeout == 0 {
		c.StartTimeout = DefaultStartTimeout
	}
	if c.StopTimeout == 0 {
		c.StopTimeout = DefaultStopTimeout
	}
	if c.Log == nil {
		c.Log = io.Discard
	}
	if c.MaxRSS == 0 {
		c.MaxRSS = uint64(DefaultMaxRSSShare * float64(procfs.MemTotal()))
	}
}

func (c *Config) validate() error {
	if len(c.Modes) == 0 {
		return errors.New("no modes to run")
	}
	for _, m := range c.Modes {
		if _, err := LookupMode(m); err != nil {
			return err
		}
	}
	if len(c.Levels) == 0 {
		return errors.New("no levels to run")
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
	switch {
	case c.Warmups < 1:
		return fmt.Errorf("warm-ups: need at least 1 (the S burst follows a warm-up), got %d", c.Warmups)
	case c.Cores < 1:
		return fmt.Errorf("cores: need at least 1, got %d", c.Cores)
	case c.Timeout < 0:
		return fmt.Errorf("timeout %s is negative", c.Timeout)
	case c.StartTimeout < 0 || c.StopTimeout < 0:
		return errors.New("start and stop timeouts must be positive")
	}
	if fi, err := os.Stat(c.Image); err != nil {
		return fmt.Errorf("image: %w", err)
	} else if fi.IsDir() {
		return fmt.Errorf("image %s is a folder", c.Image)
	}
	return nil
}
