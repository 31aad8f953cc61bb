package experiment

import (
	"context"
	"errors"
	"fmt"
	"github.com/flipbench/flipbench/runfolder"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/flipbench/flipbench/bench"
	"github.com/flipbench/flipbench/internal/spawn"
	"github.com/flipbench/flipbench/loadtest"
)

// ErrProblems is wrapped by the error an experiment returns when it ran but
// some server did not behave.
var ErrProblems = bench.ErrProblems

// Runner is what every experiment needs to start servers: where they are,
// how long to wait for them, and where to say what happens. Prepare makes
// one for a run.
type Runner struct {
	Place        bench.Place
	Image        string // absolute
	StartTimeout time.Duration
	StopTimeout  time.Duration
	ServerEnv    []string
	Log          io.Writer
	sp           *spawn.Spawner
}

// Start starts spec with its log in dir/server.log.
func (c *Runner) Start(ctx context.Context, spec bench.Spec, dir string) (*bench.Server, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("%s: %w", spec.Name, err)
	}
	srv, err := bench.StartServer(ctx, c.sp, spec, c.Image, filepath.Join(dir, runfolder.FileServerLog), c.ServerEnv, c.StartTimeout, c.StopTimeout)
	if err != nil {
		return nil, err
	}
	c.Logf("%s: started %s (pid %d), %d worker(s), capacity %d", spec.Name, spec.Binary, srv.PID(), srv.Spec.Workers, srv.Spec.Capacity)
	return srv, nil
}

// Stop stops srv and returns its problems, logged.
func (c *Runner) Stop(srv *bench.Server) []string {
	ps := srv.Stop(c.StopTimeout)
	for _, p := range ps {
		c.Logf("%s: problem: %s", srv.Spec.Name, p)
	}
	if len(ps) == 0 {
		c.Logf("%s: stopped cleanly", srv.Spec.Name)
	}
	return ps
}

// Calibrate starts runfolder.BaselineMode into dir, warms it up and fires the
// calibration burst, and returns the run's S, as bench does.
func (c *Runner) Calibrate(ctx context.Context, dir string, warmups int) (time.Duration, error) {
	spec, err := bench.Resolve(runfolder.BaselineMode, c.Place, nil)
	if err != nil {
		return 0, fmt.Errorf("calibration: %w", err)
	}
	srv, err := c.Start(ctx, spec, dir)
	if err != nil {
		return 0, fmt.Errorf("calibration: %w", err)
	}
	cal, err := srv.Calibrate(ctx, warmups)
	if ps := c.Stop(srv); err == nil && len(ps) > 0 {
		err = fmt.Errorf("%s: %v", spec.Name, ps)
	}
	if err != nil {
		return 0, fmt.Errorf("calibration: %w", err)
	}
	c.Logf("calibration: S = %s (time between answers of a burst of %d on %s)", cal.S, len(cal.Answers), spec.Name)
	return cal.S.D(), nil
}

// Logf writes one line to the run's log.
func (c *Runner) Logf(format string, args ...any) {
	fmt.Fprintf(c.Log, format+"\n", args...)
}

// clearDir removes dir/name when it is a folder this package wrote (it holds
// a server log) or empty; anything else is an error, not deleted.
func clearDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("output folder: %w", err)
	}
	if len(entries) > 0 {
		if _, err := os.Stat(filepath.Join(dir, runfolder.FileServerLog)); err != nil {
			return fmt.Errorf("output folder: %s exists and is not a folder of this experiment; choose another -out", dir)
		}
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("output folder: %w", err)
	}
	return nil
}

// LoadAvg returns the 1, 5 and 15 minute load averages as /proc/loadavg
// says them ("" when unknown). The machine may be shared: a reader judges
// the figures by it.
func LoadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}

// LoadText is the sentence of a summary that gives the load around a run.
func LoadText(before, after string, cores int) string {
	if before == "" && after == "" {
		return ""
	}
	return fmt.Sprintf("Load average (1, 5, 15 min) on this %d-core machine: %s at the start, %s at the end; "+
		"above the core count, other work shared the cores with the run.\n\n", cores, before, after)
}

// Prepare starts a run into out: it makes out, clears what a previous run
// of the experiment left there (the folders dirs, the files matching
// patterns), writes env.json and returns cm with a spawner for the run's
// servers. Close it after every server has stopped.
func Prepare(ctx context.Context, cm Runner, out string, dirs, patterns []string, specs []bench.Spec, flags map[string]string, args []string) (*Runner, error) {
	image := cm.Image
	abs, err := filepath.Abs(image)
	if err != nil {
		return nil, fmt.Errorf("image: %w", err)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, fmt.Errorf("output folder: %w", err)
	}
	for _, d := range dirs {
		if err := clearDir(filepath.Join(out, d)); err != nil {
			return nil, err
		}
	}
	for _, pat := range patterns {
		files, _ := filepath.Glob(filepath.Join(out, pat))
		for _, f := range files {
			if err := os.Remove(f); err != nil {
				return nil, fmt.Errorf("output folder: %w", err)
			}
		}
	}
	env, err := bench.CollectEnv(ctx, image)
	if err != nil {
		return nil, err
	}
	bins := map[string]string{}
	for _, s := range specs {
		bins[s.Name] = s.Binary
	}
	env.Binaries = bench.BinarySums(bins)
	env.Flags, env.Args = flags, args
	if err := loadtest.WriteJSON(filepath.Join(out, runfolder.FileEnv), env); err != nil {
		return nil, err
	}
	cm.Image, cm.sp = abs, spawn.New()
	return &cm, nil
}

// ProblemsError is nil without problems, else an error wrapping
// ErrProblems that lists them.
func ProblemsError(problems []string) error {
	if len(problems) == 0 {
		return nil
	}
	return fmt.Errorf("%w:\n  %s", ErrProblems, strings.Join(problems, "\n  "))
}

// Close ends the spawner of the run's servers; call it after every server
// has stopped (their Pdeathsig would fire).
func (c *Runner) Close() { c.sp.Close() }

// WriteTail ends a summary: its problems, its plots and a note on where the
// raw data is.
func WriteTail(b *strings.Builder, problems, plots []string, note string) {
	if len(problems) > 0 {
		b.WriteString("\nProblems:\n\n" + strings.Join(problems, "\n") + "\n")
	}
	for _, p := range plots {
		fmt.Fprintf(b, "\n![%s](%s)\n", strings.TrimSuffix(p, ".svg"), p)
	}
	b.WriteString("\n" + note + "\n")
}
