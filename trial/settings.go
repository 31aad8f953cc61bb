package trial

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"time"

	"github.com/flipbench/flipbench/contract"
)

// Defaults of Settings: the one place every command that starts servers
// (bench, the cross-check, the experiments, the gate) takes them from.
const (
	// DefaultBinDir holds the Go server binaries make build writes.
	DefaultBinDir = "bin"
	// DefaultNodeApp is the article's Node app, with its node_modules.
	DefaultNodeApp = "nodeapp"
	// DefaultWarmups is how many sequential jobs warm a server up before
	// it is measured: enough for a Node JIT and a Go heap to settle.
	DefaultWarmups = 5
	// DefaultStartTimeout bounds the wait for a server's /healthz.
	DefaultStartTimeout = 60 * time.Second
	// DefaultStopTimeout bounds the wait for an exit after SIGTERM before
	// the server's process group is killed.
	DefaultStopTimeout = 60 * time.Second
	// DefaultWarmTimeout is the client timeout of one warm-up request: a
	// Node job takes seconds, and one may queue behind a client's last.
	DefaultWarmTimeout = 5 * time.Minute
)

// Settings are how a run starts its servers and where it writes. Every
// command that starts servers embeds them; zero fields take the defaults
// noted when Fill runs.
type Settings struct {
	BinDir  string // the Go server binaries; DefaultBinDir
	NodeApp string // the article's Node app; DefaultNodeApp
	Image   string // the photo the servers flip; contract.DefaultImage
	Out     string // the run folder; the command's own, given to Fill
	Cores   int    // the core count modes size themselves by; runtime.NumCPU()
	// Warmups is how many sequential POST /flip warm each server up before
	// it is measured; DefaultWarmups.
	Warmups      int
	StartTimeout time.Duration // the wait for /healthz; DefaultStartTimeout
	StopTimeout  time.Duration // the wait for an exit after SIGTERM; DefaultStopTimeout
	ServerEnv    []string      // KEY=VALUE added to every server's environment
	// ModeFile is the modes file mode names are looked up in; nil is
	// Builtin().
	ModeFile *ModeFile
	// ModeArgs appends flags to a mode's command line; a flag given twice
	// takes its last value, so this overrides the mode's own (the gate
	// injects a one-worker cluster this way).
	ModeArgs map[string][]string
	Log      io.Writer // one line per step; nil discards
	// Flags and Args are the command line, recorded in env.json.
	Flags map[string]string
	Args  []string
}

// Fill sets every zero field to its default, out being the run folder of
// the command that fills them.
func (s *Settings) Fill(out string) {
	s.BinDir = cmp.Or(s.BinDir, DefaultBinDir)
	s.NodeApp = cmp.Or(s.NodeApp, DefaultNodeApp)
	s.Image = cmp.Or(s.Image, contract.DefaultImage)
	s.Out = cmp.Or(s.Out, out)
	s.Cores = cmp.Or(s.Cores, runtime.NumCPU())
	s.Warmups = cmp.Or(s.Warmups, DefaultWarmups)
	s.StartTimeout = cmp.Or(s.StartTimeout, DefaultStartTimeout)
	s.StopTimeout = cmp.Or(s.StopTimeout, DefaultStopTimeout)
	if s.Log == nil {
		s.Log = io.Discard
	}
}

// Validate refuses settings no run can use.
func (s Settings) Validate() error {
	switch {
	case s.Cores < 1:
		return fmt.Errorf("cores: need at least 1, got %d", s.Cores)
	case s.Warmups < 1:
		return fmt.Errorf("warm-ups: need at least 1 (S is measured after a warm-up), got %d", s.Warmups)
	case s.StartTimeout < 0 || s.StopTimeout < 0:
		return errors.New("start and stop timeouts must be positive")
	}
	if fi, err := os.Stat(s.Image); err != nil {
		return fmt.Errorf("image: %w", err)
	} else if fi.IsDir() {
		return fmt.Errorf("image %s is a folder", s.Image)
	}
	return nil
}

// Place is where the servers are found and what they size themselves by.
func (s Settings) Place() Place {
	return Place{BinDir: s.BinDir, NodeApp: s.NodeApp, Cores: s.Cores, Modes: s.ModeFile}
}

// ModeTable is the modes file of a run with these settings.
func (s Settings) ModeTable() *ModeFile { return s.Place().modes() }

// Harness returns the trial harness of a run with these settings; its log
// lines go to s.Log.
func (s Settings) Harness() *Harness {
	log := s.Log
	if log == nil {
		log = io.Discard
	}
	return &Harness{Settings: s, Logf: func(format string, args ...any) { fmt.Fprintf(log, format+"\n", args...) }}
}
