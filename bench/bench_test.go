package bench

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/flipbench/flipbench/contract"
	"github.com/flipbench/flipbench/internal/procfs"
	"github.com/flipbench/flipbench/internal/syncbuf"
	"github.com/flipbench/flipbench/internal/testproc"
	"github.com/flipbench/flipbench/loadtest"
	"github.com/flipbench/flipbench/runfolder"
	"github.com/flipbench/flipbench/server/servertest"
	"github.com/flipbench/flipbench/trial"
)

// testConfig is the Config every bench test shares: small, fast, quiet.
func testConfig(t *testing.T, bin, out string, log io.Writer) Config {
	return Config{
		Settings: trial.Settings{BinDir: bin, NodeApp: t.TempDir(), Image: servertest.Photo(t), Out: out,
			Warmups: 2, Cores: 2, StartTimeout: 20 * time.Second, StopTimeout: 5 * time.Second,
			Log: log, ServerEnv: []string{"FAKESERVER_DELAY=30ms"}},
		Levels: []int{4, 10},
	}
}

func TestRunWritesACompleteRun(t *testing.T) {
	out := filepath.Join(t.TempDir(), "run")
	var log, bar bytes.Buffer
	cfg := testConfig(t, servertest.LinkBin(t), out, &log)
	cfg.Modes = []string{"clustered", "standard", "threaded", "shared"}
	cfg.Progress = &bar
	cfg.Flags, cfg.Args = map[string]string{"quick": "false"}, []string{"loadtest", "bench"}
	sum, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatalf("bench: %v\nlog:\n%s", err, log.String())
	}
	if len(sum.Modes) != 4 {
		t.Fatalf("modes = %d, want 4", len(sum.Modes))
	}
	// One S per round, from standard's burst, though standard was listed second.
	if sum.S == nil || sum.S.Mode != runfolder.BaselineMode || sum.S.S <= 0 || len(sum.S.Answers) != SBurst {
		t.Fatalf("run calibration = %+v, want standard's S from a burst of %d", sum.S, SBurst)
	}
	// The fake's job takes 30 ms and standard runs one at a time: S is
	// about that, whatever the warm-up's per-request cost.
	if s := sum.S.S.D(); s < 25*time.Millisecond {
		t.Errorf("S = %s, want about the fake's 30 ms job (no less than a job)", s)
	}
	// clustered ran before standard measured S: its metrics file holds what
	// its results say, and the figures count it in the S of the round's end.
	if strings.Index(log.String(), "standard: started") < strings.Index(log.String(), "clustered: started") {
		t.Errorf("the modes did not run in the order asked:\n%s", log.String())
	}
	var clu loadtest.Metrics
	cluRun, _ := sum.Mode("clustered")
	if err := loadtest.ReadJSON(filepath.Join(out, "clustered", loadtest.BurstName(4)+loadtest.SuffixMetrics), &clu); err != nil || clu.Requests != 4 {
		t.Errorf("clustered's burst file: %d requests, %v; want 4", clu.Requests, err)
	} else if id := sum.BurstIdeal(cluRun.Trial, clu); id.S != sum.S.S.D() || id.Efficiency <= 0 {
		t.Errorf("clustered's burst counted in S %s (efficiency %.2f), want the run's %s", id.S, id.Efficiency, sum.S.S)
	}
	wantCap := map[string]int{"standard": 1, "threaded": 2, "clustered": 2, "shared": 2}
	for _, m := range sum.Modes {
		if len(m.Problems) > 0 || m.ExitCode != 0 || m.Skipped != "" {
			t.Errorf("%s: problems %v, exit %d, skipped %q", m.Mode, m.Problems, m.ExitCode, m.Skipped)
		}
		if m.Capacity != wantCap[m.Mode] || m.Spec.Capacity != m.Capacity {
			t.Errorf("%s: capacity %d (spec %d), want %d from /healthz", m.Mode, m.Capacity, m.Spec.Capacity, wantCap[m.Mode])
		}
		if m.ServerJob.D() != 30*time.Millisecond || m.IdleRSS == 0 {
			t.Errorf("%s: server job %s (want the fake's 30ms), idle RSS %d", m.Mode, m.ServerJob, m.IdleRSS)
		}
		if m.WarmupJob <= 0 || len(m.Warmup) != 2 {
			t.Errorf("%s: own S %s from %d warm-ups, want a positive S from 2", m.Mode, m.WarmupJob, len(m.Warmup))
		}
		if !strings.HasPrefix(m.Addr, "127.0.0.1:") || strings.HasSuffix(m.Addr, ":0") {
			t.Errorf("%s: addr %q, want the port the server bound", m.Mode, m.Addr)
		}
		if len(m.Levels) != 2 {
			t.Fatalf("%s: %d levels, want 2", m.Mode, len(m.Levels))
		}
		for _, l := range m.Levels {
			if l.Requests != l.Level || l.Successes != l.Level {
				t.Errorf("%s n=%d: %d requests, %d ok", m.Mode, l.Level, l.Requests, l.Successes)
			}
			if id := sum.BurstIdeal(m.Trial, l); id.S != sum.S.S.D() || id.Efficiency <= 0 {
				t.Errorf("%s n=%d: counted in S = %s (efficiency %v), want the run's %s", m.Mode, l.Level, id.S, id.Efficiency, sum.S.S)
			}
			total := 0
			for _, c := range l.Workers {
				total += c
			}
			if total != l.Level {
				t.Errorf("%s n=%d: per-worker counts %v add up to %d", m.Mode, l.Level, l.Workers, total)
			}
			if (m.Mode == "clustered" || m.Mode == "shared") && len(l.Workers) != 2 {
				t.Errorf("%s n=%d: workers %v, want 2", m.Mode, l.Level, l.Workers)
			}
			if l.ServerPeakRSS < m.IdleRSS/2 {
				t.Errorf("%s n=%d: peak RSS %d, idle %d", m.Mode, l.Level, l.ServerPeakRSS, m.IdleRSS)
			}
			if l.Timeout <= 0 {
				t.Errorf("%s n=%d: timeout %s", m.Mode, l.Level, l.Timeout)
			}
		}
		if alive := procfs.GroupMembers(m.PID); len(alive) > 0 {
			t.Errorf("%s: processes %v still alive", m.Mode, alive)
		}
	}

	files := []string{runfolder.FileEnv, runfolder.FileSummaryJSON}
	for _, mode := range []string{"standard", "threaded", "clustered", "shared"} {
		files = append(files, filepath.Join(mode, runfolder.FileMode), filepath.Join(mode, runfolder.FileServerLog))
		for _, n := range []int{4, 10} {
			for _, f := range loadtest.LevelFiles(loadtest.BurstName(n)) {
				files = append(files, filepath.Join(mode, f))
			}
		}
	}
	for _, f := range files {
		if fi, err := os.Stat(filepath.Join(out, f)); err != nil || fi.Size() == 0 {
			t.Errorf("run file %s missing or empty (%v)", f, err)
		}
	}
	if _, err := os.Stat(filepath.Join(out, runfolder.DirS)); err == nil {
		t.Errorf("a run with standard in it made a calibration-only folder")
	}

	// vegeta's decoder reads the raw results back.
	rs, err := loadtest.ReadResults(filepath.Join(out, "clustered", loadtest.BurstName(10)+loadtest.SuffixResults))
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 10 || rs[0].Headers.Get(contract.HeaderWorkerPID) == "" {
		t.Errorf("read back %d results (first headers %v), want 10 with %s", len(rs), rs[0].Headers, contract.HeaderWorkerPID)
	}
	back, err := runfolder.LoadSummary(out)
	if err != nil || back.S == nil || back.S.S != sum.S.S || len(back.Modes) != 4 {
		t.Errorf("summary.json read back: %+v, %v", back, err)
	}
	var env runfolder.Env
	if err := loadtest.ReadJSON(filepath.Join(out, runfolder.FileEnv), &env); err != nil {
		t.Fatal(err)
	}
	if env.Cores < 1 || len(env.ImageSHA256) != 64 || env.GoVersion == "" || env.Flags["quick"] != "false" {
		t.Errorf("env = %+v", env)
	}
	if !strings.Contains(bar.String(), "ETA") {
		t.Errorf("progress bar never showed an ETA: %q", bar.String())
	}
	if !strings.Contains(log.String(), "stopped cleanly") {
		t.Errorf("log lacks the clean stop:\n%s", log.String())
	}
}

func TestRunKeepAliveClients(t *testing.T) {
	out := filepath.Join(t.TempDir(), "run")
	var log bytes.Buffer
	cfg := testConfig(t, servertest.LinkBin(t), out, &log)
	cfg.Modes, cfg.Levels = []string{"standard", "clustered"}, []int{2}
	cfg.Clients, cfg.ClientsDuration = []int{3}, 500*time.Millisecond
	sum, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatalf("bench: %v\nlog:\n%s", err, log.String())
	}
	if !slices.Equal(sum.Clients, []int{3}) {
		t.Errorf("summary clients = %v, want [3]", sum.Clients)
	}
	for _, m := range sum.Modes {
		k, ok := m.Clients(3)
		if !ok {
			t.Fatalf("%s: no keep-alive run of 3 clients", m.Mode)
		}
		if k.Starved != 0 || k.Answers == 0 || len(k.PerClientStats) != 3 || k.Duration.D() != 500*time.Millisecond {
			t.Errorf("%s: %d answers, %d starved, %d clients, duration %s; want answers for all 3 in 500ms",
				m.Mode, k.Answers, k.Starved, len(k.PerClientStats), k.Duration)
		}
		servertest.RequireFiles(t, filepath.Join(out, m.Mode, "keepalive-3.bin"), filepath.Join(out, m.Mode, "keepalive-3.metrics.json"))
	}
	if !strings.Contains(log.String(), "standard clients=3:") {
		t.Errorf("log lacks the keep-alive line:\n%s", log.String())
	}
}

func TestKeepAliveDuration(t *testing.T) {
	for _, tc := range []struct {
		c, capacity int
		s, want     time.Duration
	}{
		{10, 1, 65 * time.Millisecond, MinKeepAlive},
		{10, 1, 830 * time.Millisecond, 25 * time.Second},
		{100, 2, 830 * time.Millisecond, 125 * time.Second},
		{100, 1, 8 * time.Second, MaxKeepAlive},
	} {
		if got := KeepAliveDuration(tc.c, tc.capacity, tc.s); got != tc.want {
			t.Errorf("KeepAliveDuration(%d, %d, %s) = %s, want %s", tc.c, tc.capacity, tc.s, got, tc.want)
		}
	}
}

func TestRunCalibratesOnStandardWhenItIsNotAsked(t *testing.T) {
	out := filepath.Join(t.TempDir(), "run")
	var log bytes.Buffer
	cfg := testConfig(t, servertest.LinkBin(t), out, &log)
	cfg.Modes, cfg.Levels = []string{"threaded"}, []int{4}
	sum, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatalf("bench: %v\nlog:\n%s", err, log.String())
	}
	if sum.S == nil || sum.S.Mode != runfolder.BaselineMode || len(sum.S.Warmup) != 2 {
		t.Fatalf("calibration = %+v, want standard's warm-up", sum.S)
	}
	if len(sum.Modes) != 1 || sum.Modes[0].Mode != "threaded" {
		t.Fatalf("modes = %+v, want threaded alone", sum.Modes)
	}
	if s := sum.TrialS(sum.Modes[0].Trial); s != sum.S.S.D() {
		t.Errorf("threaded counted in %s, want the run's S %s", s, sum.S.S)
	}
	if readFile(filepath.Join(out, runfolder.DirS, runfolder.FileServerLog)) == "" {
		t.Error("the calibration server's log is missing")
	}
	if _, err := os.Stat(filepath.Join(out, runfolder.BaselineMode, runfolder.FileMode)); err == nil {
		t.Error("the calibration-only warm-up wrote a mode folder")
	}
}

func TestRunSkipsModesItCannotRun(t *testing.T) {
	out := filepath.Join(t.TempDir(), "run")
	var log bytes.Buffer
	cfg := testConfig(t, servertest.LinkBin(t, "standard"), out, &log)
	cfg.Modes, cfg.Levels = []string{"standard", "clustered", "node-standard"}, []int{3}
	sum, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatalf("bench: %v", err)
	}
	for mode, want := range map[string]string{
		"clustered":     "clustered not found (build it with make build)",
		"node-standard": "node",
	} {
		m, ok := sum.Mode(mode)
		if !ok || !strings.Contains(m.Skipped, want) {
			t.Errorf("%s = %+v, want skipped for %q", mode, m, want)
		}
		if !strings.Contains(log.String(), "skip "+mode+": ") {
			t.Errorf("log lacks the skip of %s:\n%s", mode, log.String())
		}
	}
	if m, _ := sum.Mode("standard"); len(m.Levels) != 1 {
		t.Errorf("standard did not run: %+v", m)
	}

	cfg = testConfig(t, t.TempDir(), out, io.Discard)
	cfg.Modes = []string{"standard"}
	_, err = Run(context.Background(), cfg)
	if err == nil || !strings.Contains(err.Error(), "no mode can run here") {
		t.Errorf("bench without binaries: err = %v", err)
	}
}

func TestRunReportsMisbehavingServers(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  string
		want string
	}{
		{"leaves files", "FAKESERVER_LEAVE=1", "left 2 entries in its tmpdir"},
		{"bad exit code", "FAKESERVER_EXIT=3", "exit code 3"},
		{"ignores SIGTERM", "FAKESERVER_IGNORE_TERM=1", "process group was killed"},
		{"answers 500", "FAKESERVER_STATUS=500", "warm-up: request 1: 500"},
		{"crashes at start", "FAKESERVER_CRASH=1", "server exited before it was healthy"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			out := filepath.Join(t.TempDir(), "run")
			cfg := testConfig(t, servertest.LinkBin(t), out, io.Discard)
			cfg.Modes, cfg.Levels, cfg.StopTimeout = []string{"standard"}, []int{3}, time.Second
			cfg.ServerEnv = append(cfg.ServerEnv, tc.env)
			sum, err := Run(context.Background(), cfg)
			if !errors.Is(err, trial.ErrProblems) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want ErrProblems mentioning %q", err, tc.want)
			}
			m, _ := sum.Mode("standard")
			if len(m.Problems) == 0 {
				t.Errorf("mode run lists no problems: %+v", m)
			}
			if alive := procfs.GroupMembers(m.PID); len(alive) > 0 {
				t.Errorf("processes %v still alive", alive)
			}
		})
	}
}

// cancelledRun runs standard then threaded, 100 ms a job, with a burst of
// n, into out, and cancels it wait after the log first says line.
func cancelledRun(t *testing.T, out string, n int, line string, wait time.Duration) *runfolder.Summary {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var log syncbuf.Buffer
	cfg := testConfig(t, servertest.LinkBin(t), out, &log)
	cfg.Modes, cfg.Levels = []string{"standard", "threaded"}, []int{n}
	cfg.ServerEnv = []string{"FAKESERVER_DELAY=100ms"}
	go func() {
		testproc.Poll(time.Minute, func() bool { return strings.Contains(log.String(), line) })
		time.Sleep(wait)
		cancel()
	}()
	sum, err := Run(ctx, cfg)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled\nlog:\n%s", err, log.String())
	}
	return sum
}

func TestRunCancelStopsTheServer(t *testing.T) {
	out := filepath.Join(t.TempDir(), "run")
	// Cancel in the middle of standard's burst (50 × 100 ms in a row),
	// which starts once the warm-up and the S burst are done; the burst
	// announces nothing: time, not an event.
	sum := cancelledRun(t, out, 50, "S burst: ", 700*time.Millisecond)
	if len(sum.Modes) != 1 {
		t.Fatalf("modes = %d, want only standard", len(sum.Modes))
	}
	m := sum.Modes[0]
	if m.PID == 0 || syscall.Kill(m.PID, 0) == nil && len(procfs.GroupMembers(m.PID)) > 0 {
		t.Errorf("server %d still running", m.PID)
	}
	if _, err := os.Stat(filepath.Join(out, "standard", loadtest.BurstName(50)+"-interrupted"+loadtest.SuffixResults)); err != nil {
		t.Errorf("the interrupted burst's results were not kept: %v", err)
	}
}

// A round cut short still has the files of the bursts it finished (written
// as each ended) and its S, which the figures count them in.
func TestRunCancelKeepsTheRoundsBursts(t *testing.T) {
	out := filepath.Join(t.TempDir(), "run")
	// threaded's burst (30 jobs on 2 slots, 1.5 s) starts after this line.
	sum := cancelledRun(t, out, 30, "threaded: capacity", 0)
	var m loadtest.Metrics
	if err := loadtest.ReadJSON(filepath.Join(out, "standard", loadtest.BurstName(30)+loadtest.SuffixMetrics), &m); err != nil {
		t.Fatalf("standard's finished burst was not written: %v", err)
	}
	std, _ := sum.Mode("standard")
	if id := sum.BurstIdeal(std.Trial, m); sum.S == nil || id.S != sum.S.S.D() || id.Efficiency <= 0 {
		t.Errorf("standard's burst counted in %s (efficiency %.2f), want the round's S %v", id.S, id.Efficiency, sum.S)
	}
	servertest.RequireFiles(t, filepath.Join(out, "standard", loadtest.BurstName(30)+loadtest.SuffixResults))
}

func readFile(p string) string {
	b, _ := os.ReadFile(p)
	return string(b)
}

func TestRunRefusesToClobber(t *testing.T) {
	out := t.TempDir()
	// -out bin: bin/standard is a binary, not a mode folder.
	bin := servertest.LinkBin(t)
	cfg := testConfig(t, bin, bin, io.Discard)
	cfg.Modes, cfg.Levels = []string{"standard"}, []int{2}
	_, err := Run(context.Background(), cfg)
	if err == nil || !strings.Contains(err.Error(), "not a folder of this run") {
		t.Errorf("bench -out bin: err = %v", err)
	}
	if _, err := os.Lstat(filepath.Join(bin, "standard")); err != nil {
		t.Errorf("bin/standard is gone: %v", err)
	}
	// A folder of someone else's files under a mode's name is kept too.
	if err := os.MkdirAll(filepath.Join(out, "standard"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(out, "standard", "notes.txt"), []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg.Out = out
	if _, err := Run(context.Background(), cfg); err == nil {
		t.Error("bench overwrote a folder it did not write")
	}
}

func TestRunConfigErrors(t *testing.T) {
	img := servertest.Photo(t)
	for _, tc := range []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"unknown mode", func(c *Config) { c.Modes = []string{"forked"} }, `unknown mode "forked"`},
		{"no modes", func(c *Config) { c.Modes = []string{} }, "no modes"},
		{"bad level", func(c *Config) { c.Levels = []int{10, 0} }, "level 0 out of range"},
		{"no warm-up", func(c *Config) { c.Warmups = -1 }, "at least 1"},
		{"missing image", func(c *Config) { c.Image = filepath.Join(t.TempDir(), "nope.jpg") }, "image"},
		{"negative timeout", func(c *Config) { c.Timeout = -time.Second }, "negative"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := Config{Settings: trial.Settings{Image: img, Out: t.TempDir()}}
			tc.edit(&cfg)
			_, err := Run(context.Background(), cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want one mentioning %q", err, tc.want)
			}
		})
	}
}

func TestParseLevels(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []int
		err  string
	}{
		{"10,100,1000", []int{10, 100, 1000}, ""},
		{" 5 , 7 ,", []int{5, 7}, ""},
		{"", nil, "no levels"},
		{"10,x", nil, `"x" is not a whole number`},
		{"0", nil, "out of range"},
		{"-5", nil, "out of range"},
		{"1000000", nil, "out of range"},
		{"10,10", nil, "twice"},
	} {
		got, err := ParseLevels(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseLevels(%q) err = %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("ParseLevels(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}

}

// A server whose processes pass the memory budget is killed with its whole
// group, the burst is recorded as stopped for memory, and the run goes on
// with the next mode.
func TestRunMemoryGuardStopsAServer(t *testing.T) {
	out := filepath.Join(t.TempDir(), "run")
	var log bytes.Buffer
	cfg := testConfig(t, servertest.LinkBin(t), out, &log)
	cfg.Modes, cfg.Levels = []string{"standard", "threaded"}, []int{2, 40}
	// Each request holds 16 MiB until answered: 40 at once hold 640 MiB,
	// where the calibration burst's 10 left the process near 350 MiB.
	cfg.ServerEnv = []string{"FAKESERVER_DELAY=50ms", "FAKESERVER_ALLOC=16777216"}
	cfg.MaxRSS = 500 << 20
	sum, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatalf("bench: %v\nlog:\n%s", err, log.String())
	}
	for _, name := range []string{"standard", "threaded"} {
		m, _ := sum.Mode(name)
		if m.MemoryStop == nil {
			t.Fatalf("%s: not stopped for memory; levels %+v\nlog:\n%s", name, m.Levels, log.String())
		}
		if s := m.MemoryStop; s.Level != 40 || s.RSS <= cfg.MaxRSS || s.Budget != cfg.MaxRSS || s.InFlight < 1 || s.InFlight > 40 {
			t.Errorf("%s: memory stop %+v", name, s)
		}
		if len(m.Levels) != 2 || m.Levels[0].Successes != 2 || m.Levels[1].Successes == 40 {
			t.Errorf("%s: levels %+v, want n=2 whole and n=40 cut short", name, m.Levels)
		} else if m.Levels[0].Stopped != "" || m.Levels[1].Stopped != trial.StoppedMemory {
			t.Errorf("%s: stopped %q and %q, want the guard to stop only n=40", name, m.Levels[0].Stopped, m.Levels[1].Stopped)
		}
		if len(m.Problems) > 0 {
			t.Errorf("%s: problems %v, want none: the guard's kill is no fault of the server", name, m.Problems)
		}
		if alive := procfs.GroupMembers(m.PID); len(alive) > 0 {
			t.Errorf("%s: processes %v still alive", name, alive)
		}
	}
	if !strings.Contains(log.String(), "stopped for memory at n=40") {
		t.Errorf("log does not say so:\n%s", log.String())
	}
}

// Keep-alive clients whose server the guard killed stop with it: the phase
// ends as stopped for memory instead of reconnecting until its duration is
// over.
func TestRunMemoryGuardEndsKeepAliveClients(t *testing.T) {
	out := filepath.Join(t.TempDir(), "run")
	var log bytes.Buffer
	cfg := testConfig(t, servertest.LinkBin(t), out, &log)
	cfg.Modes, cfg.Levels = []string{"standard"}, []int{2}
	cfg.Clients, cfg.ClientsDuration = []int{40}, 10*time.Minute
	cfg.ServerEnv = []string{"FAKESERVER_DELAY=50ms", "FAKESERVER_ALLOC=16777216"}
	cfg.MaxRSS = 500 << 20
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute) // a bound, not a measure
	defer cancel()
	sum, err := Run(ctx, cfg)
	if err != nil {
		t.Fatalf("bench: %v\nlog:\n%s", err, log.String())
	}
	m, _ := sum.Mode("standard")
	if m.MemoryStop == nil || len(m.KeepAlive) != 1 {
		t.Fatalf("not stopped for memory in its clients: stop %+v, keep-alive %+v\nlog:\n%s", m.MemoryStop, m.KeepAlive, log.String())
	}
	if got := m.KeepAlive[0].Stopped; got != trial.StoppedMemory {
		t.Errorf("keep-alive clients stopped %q, want %q", got, trial.StoppedMemory)
	}
	if len(m.Problems) > 0 {
		t.Errorf("problems %v, want none: the guard's kill is no fault of the server", m.Problems)
	}
}

// A mode much slower than the calibration mode (Node's job takes several Go
// jobs' time) gets a client timeout that covers its own queue, not one
// counted in the run's S.
func TestRunTimeoutCoversASlowMode(t *testing.T) {
	out := filepath.Join(t.TempDir(), "run")
	cfg := testConfig(t, servertest.LinkBin(t), out, io.Discard)
	cfg.Modes, cfg.Levels = []string{"standard", "clustered"}, []int{4}
	cfg.ServerEnv = []string{"FAKESERVER_DELAY_STANDARD=5ms", "FAKESERVER_DELAY_CLUSTERED=300ms"}
	sum, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	clu, _ := sum.Mode("clustered")
	l, ok := clu.Level(4)
	if !ok || l.Successes != 4 {
		t.Fatalf("clustered n=4: %+v", l)
	}
	if want := 3*loadtest.IdealMakespan(4, clu.Capacity, clu.WarmupJob.D()) + time.Minute; l.Timeout.D() < want {
		t.Errorf("timeout %s, want at least %s from clustered's own S %s (the run's S is %s)", l.Timeout, want, clu.WarmupJob, sum.S.S)
	}
}
