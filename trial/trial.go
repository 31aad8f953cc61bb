package trial

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/flipbench/flipbench/internal/procfs"
	"github.com/flipbench/flipbench/internal/stats"
	"github.com/flipbench/flipbench/loadtest"
	"github.com/flipbench/flipbench/runfolder"
)

// Trial is one start of a mode's server in one round, as a Measure sees it:
// the server (healthy and warmed up), the folder for its files and the
// record it fills.
type Trial struct {
	Round  int
	Dir    string
	Server *Server
	Rec    *runfolder.Trial
	h      *Harness
}

// Measure fires a trial's load and records it in t.Rec. Problems with the
// server go to t.Problem; the error is for cancellation and for failing to
// write files.
type Measure func(ctx context.Context, t *Trial) error

// Problem records and logs something the server did wrong.
func (t *Trial) Problem(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	t.Rec.Problems = append(t.Rec.Problems, msg)
	t.h.Logf("%s: problem: %s", t.Server.Spec.Name, msg)
}

// Logf writes one line of the run's log.
func (t *Trial) Logf(format string, args ...any) { t.h.Logf(format, args...) }

// Run runs one trial of spec in round r into dir: it starts the server,
// waits for its /healthz, warms it up (h.Warmups), measures it and stops it
// by its PID, noting the machine's noise around the measure. It returns the
// record and spec as /healthz sized it (Workers, Capacity). Problems with the
// server go to the record; the error is for cancellation and for failing to
// write files.
func (h *Harness) Run(ctx context.Context, spec Spec, r int, dir string, measure Measure) (runfolder.Trial, Spec, error) {
	rec := runfolder.Trial{Round: r, ExitCode: -1}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return rec, spec, fmt.Errorf("%s: %w", spec.Name, err)
	}
	logPath := filepath.Join(dir, runfolder.FileServerLog)
	srv, err := startServer(h.sp, spec, h.Image, logPath, h.ServerEnv)
	if err != nil {
		rec.Problems = append(rec.Problems, err.Error())
		h.Logf("%s: problem: %v", spec.Name, err)
		return rec, spec, nil
	}
	rec.PID = srv.pid
	h.Logf("%s: started %s %s (pid %d)", spec.Name, spec.Binary, strings.Join(spec.Args, " "), srv.pid)
	t := &Trial{Round: r, Dir: dir, Server: srv, Rec: &rec, h: h}
	err = h.healthy(ctx, t)
	if err == nil && len(rec.Problems) == 0 {
		err = h.warmAndMeasure(ctx, t, measure)
	}
	h.stop(ctx, t, logPath)
	return rec, srv.Spec, err
}

// healthy waits for t's server's /healthz and sizes its spec by it.
func (h *Harness) healthy(ctx context.Context, t *Trial) error {
	hz, raw, err := t.Server.waitHealthy(ctx, h.StartTimeout)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		t.Problem("%v", err)
		return nil
	}
	t.Server.Health, t.Server.HealthRaw = hz, raw
	if raw != nil && (!t.Server.Spec.Plain || t.Server.Spec.Capacity == 0) { // a plain server's file capacity wins
		t.Server.Spec.Capacity = hz.TotalCapacity()
	}
	t.Server.Spec.Workers = max(hz.Workers, 1)
	t.Rec.Addr, t.Rec.Health, t.Rec.Capacity = t.Server.Addr(), raw, t.Server.Spec.Capacity
	t.Logf("%s: healthy, %d worker(s), capacity %d", t.Server.Spec.Name, t.Server.Spec.Workers, t.Rec.Capacity)
	return nil
}

// warmAndMeasure warms t's server up, then measures it with the noise meter
// running.
func (h *Harness) warmAndMeasure(ctx context.Context, t *Trial, measure Measure) error {
	if h.Warmups > 0 {
		if err := h.warmUp(ctx, t); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			t.Problem("warm-up: %v", err)
			return nil
		}
	}
	noise := startNoise(t.Server.PID())
	err := measure(ctx, t)
	t.Rec.Noise = noise.end()
	return err
}

// warmUp sends h.Warmups sequential jobs and records their latencies, the
// warm-up job time, the server's own job time and its memory after them.
func (h *Harness) warmUp(ctx context.Context, t *Trial) error {
	warm, jobs, err := warmUp(ctx, t.Server.Target(), h.Warmups, h.WarmTimeout, h.OnAnswer)
	for _, d := range warm {
		t.Rec.Warmup = append(t.Rec.Warmup, loadtest.Duration(d))
	}
	if len(jobs) > 0 {
		t.Rec.ServerJob = loadtest.Duration(stats.Median(jobs))
	}
	if err != nil {
		return err
	}
	t.Rec.WarmupJob = loadtest.Duration(runfolder.WarmupJobTime(warm))
	t.Rec.IdleRSS = procfs.GroupRSS(t.Server.PID())
	t.Rec.WarmupHWM = procfs.GroupHWM(t.Server.PID())
	return nil
}

// stop stops t's server and records how it went. It runs after a
// cancellation too: no server outlives its trial.
func (h *Harness) stop(ctx context.Context, t *Trial, logPath string) {
	name := t.Server.Spec.Name
	res := t.Server.stop(h.StopTimeout)
	t.Rec.ExitCode, t.Rec.Killed, t.Rec.Survivors, t.Rec.Leftovers = res.ExitCode, res.Killed, res.Survivors, res.Leftovers
	if ctx.Err() != nil {
		h.Logf("%s: stopped (exit code %d)", name, res.ExitCode)
		return
	}
	for _, p := range res.problems(h.StopTimeout, logPath, t.Rec.MemoryStop != nil, t.Server.Spec.Plain) {
		t.Problem("%s", p)
	}
	if len(t.Rec.Problems) == 0 && t.Rec.MemoryStop == nil {
		h.Logf("%s: stopped cleanly (exit code 0, no temp files left)", name)
	}
}
