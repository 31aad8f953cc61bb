package trial

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/flipbench/flipbench/internal/spawn"
	"github.com/flipbench/flipbench/loadtest"
	"github.com/flipbench/flipbench/runfolder"
)

// Harness runs trials for a run folder: for each it starts a mode's server,
// waits for its /healthz, warms it up, hands it to a Measure, stops it and
// records what happened. It is the one way bench, the cross-check and every
// experiment run a server.
type Harness struct {
	Settings                  // Image is made absolute by Open
	WarmTimeout time.Duration // client timeout of a warm-up request; DefaultWarmTimeout
	// Logf writes one line of the run's log; nil discards.
	Logf func(format string, args ...any)
	// OnAnswer is called for every warm-up answer (a progress bar's count).
	OnAnswer func()
	sp       *spawn.Spawner
}

// Open starts a run into h.Out (its Settings filled, see Settings.Fill): it
// makes the folder, clears what an earlier run left there (the folders dirs
// and the files matching patterns, see ClearOut), and writes env.json for
// specs and the command line (h.Flags, h.Args). Close the harness after its
// last trial. It returns what env.json says.
func (h *Harness) Open(ctx context.Context, dirs, patterns []string, specs []Spec) (runfolder.Env, error) {
	h.WarmTimeout = cmp.Or(h.WarmTimeout, DefaultWarmTimeout)
	if h.Logf == nil {
		h.Logf = func(string, ...any) {}
	}
	if h.OnAnswer == nil {
		h.OnAnswer = func() {}
	}
	image, err := filepath.Abs(h.Image)
	if err != nil {
		return runfolder.Env{}, fmt.Errorf("image: %w", err)
	}
	if err := ClearOut(h.Out, dirs, patterns); err != nil {
		return runfolder.Env{}, err
	}
	env, err := CollectEnv(ctx, h.Image)
	if err != nil {
		return env, err
	}
	bins := map[string]string{}
	for _, s := range specs {
		bins[s.Name] = s.Binary
	}
	env.Binaries = BinarySums(bins)
	env.Flags, env.Args = h.Flags, h.Args
	if err := loadtest.WriteJSON(filepath.Join(h.Out, runfolder.FileEnv), env); err != nil {
		return env, err
	}
	h.Image, h.sp = image, spawn.New()
	return env, nil
}

// Close ends the spawner of the run's servers; call it after every server
// has stopped (their Pdeathsig would fire).
func (h *Harness) Close() {
	if h.sp != nil {
		h.sp.Close()
	}
}

// ClearOut makes out and clears what an earlier run left in it: each of
// dirs that a run wrote (empty, or holding a mode.json or server.log; any
// other folder, say -out bin where bin/standard is a binary, is an error,
// not deleted) and the files matching patterns.
func ClearOut(out string, dirs, patterns []string) error {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return fmt.Errorf("output folder: %w", err)
	}
	for _, d := range dirs {
		dir := filepath.Join(out, d)
		fi, err := os.Lstat(dir)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("output folder: %w", err)
		}
		if !fi.IsDir() || !isRunDir(dir) {
			return fmt.Errorf("output folder: %s exists and is not a folder of this run; choose another -out", dir)
		}
		if err := os.RemoveAll(dir); err != nil {
			return fmt.Errorf("output folder: %w", err)
		}
	}
	for _, pat := range patterns {
		files, _ := filepath.Glob(filepath.Join(out, pat))
		for _, f := range files {
			if err := os.Remove(f); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("output folder: %w", err)
			}
		}
	}
	return nil
}

// isRunDir reports whether dir looks like a folder a run wrote: empty, or
// holding its mode.json or server.log.
func isRunDir(dir string) bool {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	if len(entries) == 0 {
		return true
	}
	for _, f := range []string{runfolder.FileMode, runfolder.FileServerLog} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			return true
		}
	}
	return false
}
