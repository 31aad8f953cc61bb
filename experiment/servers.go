package experiment

import (
	"cmp"
	"fmt"
	"io"
	"os"
	"runtime"
	"time"

	"github.com/flipbench/flipbench/bench"
	"github.com/flipbench/flipbench/contract"
)

// Servers is the part of every experiment's Config about the servers it
// starts and its run folder; zero fields take the defaults noted (Fill).
type Servers struct {
	BinDir       string        // bench.DefaultBinDir
	NodeApp      string        // bench.DefaultNodeApp
	Image        string        // the photo the servers start with; contract.DefaultImage
	Out          string        // the run folder; the experiment's default
	Cores        int           // runtime.NumCPU()
	StartTimeout time.Duration // bench.DefaultStartTimeout
	StopTimeout  time.Duration // bench.DefaultStopTimeout
	Log          io.Writer     // one line per step; nil discards
	ServerEnv    []string      // KEY=VALUE added to every server's environment
	// Flags and Args are the command line, recorded in env.json.
	Flags map[string]string
	Args  []string
}

// Fill sets the defaults, out being the experiment's run folder.
func (s *Servers) Fill(out string) {
	s.BinDir = cmp.Or(s.BinDir, bench.DefaultBinDir)
	s.NodeApp = cmp.Or(s.NodeApp, bench.DefaultNodeApp)
	s.Image = cmp.Or(s.Image, contract.DefaultImage)
	s.Out = cmp.Or(s.Out, out)
	s.Cores = cmp.Or(s.Cores, runtime.NumCPU())
	s.StartTimeout = cmp.Or(s.StartTimeout, bench.DefaultStartTimeout)
	s.StopTimeout = cmp.Or(s.StopTimeout, bench.DefaultStopTimeout)
	if s.Log == nil {
		s.Log = io.Discard
	}
}

// Validate refuses what no run can use: an image that cannot be read.
func (s Servers) Validate() error {
	if _, err := os.Stat(s.Image); err != nil {
		return fmt.Errorf("image: %w", err)
	}
	return nil
}

// Place is where the servers are found.
func (s Servers) Place() bench.Place {
	return bench.Place{BinDir: s.BinDir, NodeApp: s.NodeApp, Cores: s.Cores}
}

// Harness returns the trial harness of the run: experiments start, warm,
// measure and stop their servers as bench does.
func (s Servers) Harness() *bench.Harness {
	return &bench.Harness{Place: s.Place(), Image: s.Image, Out: s.Out, StartTimeout: s.StartTimeout, StopTimeout: s.StopTimeout,
		ServerEnv: s.ServerEnv, Logf: func(format string, args ...any) { fmt.Fprintf(s.Log, format+"\n", args...) }}
}
