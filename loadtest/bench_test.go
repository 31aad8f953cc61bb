package loadtest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// fakeBin makes a bin folder whose standard and clustered are links to this
// test binary, which then runs the fake server (see TestMain).
func fakeBin(t *testing.T, names ...string) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if len(names) == 0 {
		names = []string{"standard", "clustered"}
	}
	for _, n := range names {
		if err := os.Symlink(exe, filepath.Join(dir, n)); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// fakeImage writes a stand-in photo (the fake server only checks it exists).
func fakeImage(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "photo.jpg")
	if err := os.WriteFile(p, []byte("not really a jpeg"), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// benchOpts are the options every bench test shares: small, fast, quiet.
func benchOpts(t *testing.T, bin, out string, log io.Writer) []BenchOption {
	return []BenchOption{
		WithBinDir(bin), WithImage(fakeImage(t)), WithOutDir(out),
		WithLevels(4, 10), WithWarmups(2), WithCPUs(2),
		WithStartTimeout(20 * time.Second), WithStopTimeout(5 * time.Second),
		WithLog(log), WithServerEnv("FAKESERVER_DELAY=30ms"),
	}
}

func TestBenchWritesACompleteRun(t *testing.T) {
	out := filepath.Join(t.TempDir(), "run")
	var log, bar bytes.Buffer
	opts := append(benchOpts(t, fakeBin(t), out, &log),
		WithModes(ModeStandard, ModeClustered, ModeThreaded, ModeShared), WithProgress(&bar),
		WithFlags(map[string]string{"quick": "false"}, []string{"loadtest", "bench"}))
	sum, err := Bench(context.Background(), opts...)
	if err != nil {
		t.Fatalf("bench: %v\nlog:\n%s", err, log.String())
	}
	if len(sum.Modes) != 4 {
		t.Fatalf("modes = %d, want 4", len(sum.Modes))
	}
	wantCap := map[string]int{ModeStandard: 1, ModeThreaded: 2, ModeClustered: 2, ModeShared: 2}
	for _, m := range sum.Modes {
		if len(m.Problems) > 0 || m.ExitCode != 0 || m.Skipped != "" {
			t.Errorf("%s: problems %v, exit %d, skipped %q", m.Mode, m.Problems, m.ExitCode, m.Skipped)
		}
		if m.Capacity != wantCap[m.Mode] {
			t.Errorf("%s: capacity %d, want %d", m.Mode, m.Capacity, wantCap[m.Mode])
		}
		if m.ServerJob.D() != 30*time.Millisecond || m.IdleRSS == 0 {
			t.Errorf("%s: server job %s (want the fake's 30ms), idle RSS %d", m.Mode, m.ServerJob, m.IdleRSS)
		}
		if m.Calibration <= 0 || len(m.Warmup) != 2 {
			t.Errorf("%s: calibration %s from %d warm-ups, want a positive S from 2", m.Mode, m.Calibration, len(m.Warmup))
		}
		if len(m.Levels) != 2 {
			t.Fatalf("%s: %d levels, want 2", m.Mode, len(m.Levels))
		}
		for _, l := range m.Levels {
			if l.Requests != l.Level || l.Successes != l.Level {
				t.Errorf("%s n=%d: %d requests, %d ok", m.Mode, l.Level, l.Requests, l.Successes)
			}
			total := 0
			for _, c := range l.Workers {
				total += c
			}
			if total != l.Level {
				t.Errorf("%s n=%d: per-worker counts %v add up to %d", m.Mode, l.Level, l.Workers, total)
			}
			if (m.Mode == ModeClustered || m.Mode == ModeShared) && len(l.Workers) != 2 {
				t.Errorf("%s n=%d: workers %v, want 2", m.Mode, l.Level, l.Workers)
			}
			if l.ServerPeakRSS < m.IdleRSS/2 {
				t.Errorf("%s n=%d: peak RSS %d, idle %d", m.Mode, l.Level, l.ServerPeakRSS, m.IdleRSS)
			}
			if l.Efficiency <= 0 || l.Timeout <= 0 {
				t.Errorf("%s n=%d: efficiency %v, timeout %s", m.Mode, l.Level, l.Efficiency, l.Timeout)
			}
		}
		if alive := groupMembers(m.PID); len(alive) > 0 {
			t.Errorf("%s: processes %v still alive", m.Mode, alive)
		}
	}

	files := []string{FileEnv, FileSummaryJSON, FileSummaryMD, "latency-4.svg", "latency-10.svg", "throughput.svg", "speedup.svg"}
	for _, mode := range []string{ModeStandard, ModeThreaded, ModeClustered, ModeShared} {
		files = append(files, filepath.Join(mode, FileMode), filepath.Join(mode, FileServerLog))
		for _, n := range []int{4, 10} {
			for _, f := range LevelFiles(BurstName(n)) {
				files = append(files, filepath.Join(mode, f))
			}
		}
	}
	for _, f := range files {
		if fi, err := os.Stat(filepath.Join(out, f)); err != nil || fi.Size() == 0 {
			t.Errorf("run file %s missing or empty (%v)", f, err)
		}
	}

	// vegeta's decoder reads the raw results back.
	rs, err := ReadResults(filepath.Join(out, ModeClustered, BurstName(10)+SuffixResults))
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 10 || rs[0].Headers.Get(HeaderWorkerPID) == "" {
		t.Errorf("read back %d results (first headers %v), want 10 with X-Worker-PID", len(rs), rs[0].Headers)
	}

	md, _ := os.ReadFile(filepath.Join(out, FileSummaryMD))
	for _, want := range []string{"| standard | 10 | 10 |", "| clustered |", "vegeta measures from the send", "speedup", "![throughput](throughput.svg)"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("summary.md lacks %q:\n%s", want, md)
		}
	}
	var env Env
	if err := ReadJSON(filepath.Join(out, FileEnv), &env); err != nil {
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

	// report: recomputing from the .bin files gives the same figures.
	again, err := Rerender(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range sum.Modes {
		m2, ok := again.Mode(m.Mode)
		if !ok {
			t.Fatalf("rerendered run lacks %s", m.Mode)
		}
		for _, l := range m.Levels {
			l2, _ := m2.Level(l.Level)
			if l2.Makespan != l.Makespan || l2.Latency != l.Latency || l2.Efficiency != l.Efficiency {
				t.Errorf("%s n=%d: rerendered metrics differ:\n %+v\n %+v", m.Mode, l.Level, l2, l)
			}
		}
	}

	// compare: a run against itself has ratios of 1.
	a, err := LoadSummary(out)
	if err != nil {
		t.Fatal(err)
	}
	cmp := RenderCompare(a, a)
	if !strings.Contains(cmp, "| shared | 10 |") || !strings.Contains(cmp, "| 1.00 |") {
		t.Errorf("comparison:\n%s", cmp)
	}
}

func TestBenchSkipsMissingBinaries(t *testing.T) {
	out := filepath.Join(t.TempDir(), "run")
	var log bytes.Buffer
	opts := append(benchOpts(t, fakeBin(t, "standard"), out, &log), WithModes(ModeStandard, ModeClustered), WithLevels(3))
	sum, err := Bench(context.Background(), opts...)
	if err != nil {
		t.Fatalf("bench: %v", err)
	}
	c, ok := sum.Mode(ModeClustered)
	if !ok || c.Skipped == "" {
		t.Errorf("clustered = %+v, want skipped", c)
	}
	if !strings.Contains(log.String(), "skip clustered") {
		t.Errorf("log lacks the skip message:\n%s", log.String())
	}
	md, _ := os.ReadFile(filepath.Join(out, FileSummaryMD))
	if !strings.Contains(string(md), "skipped") {
		t.Errorf("summary.md does not mention the skipped mode:\n%s", md)
	}

	_, err = Bench(context.Background(), append(benchOpts(t, t.TempDir(), out, io.Discard), WithModes(ModeStandard))...)
	if err == nil || !strings.Contains(err.Error(), "no mode to run") {
		t.Errorf("bench without binaries: err = %v", err)
	}
}

func TestBenchReportsMisbehavingServers(t *testing.T) {
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
			opts := append(benchOpts(t, fakeBin(t), out, io.Discard),
				WithModes(ModeStandard), WithLevels(3), WithStopTimeout(time.Second), WithServerEnv(tc.env))
			sum, err := Bench(context.Background(), opts...)
			if !errors.Is(err, ErrProblems) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want ErrProblems mentioning %q", err, tc.want)
			}
			m, _ := sum.Mode(ModeStandard)
			if alive := groupMembers(m.PID); len(alive) > 0 {
				t.Errorf("processes %v still alive", alive)
			}
			md, _ := os.ReadFile(filepath.Join(out, FileSummaryMD))
			if !strings.Contains(string(md), "## Problems") {
				t.Errorf("summary.md lacks the problems:\n%s", md)
			}
		})
	}
}

func TestBenchCancelStopsTheServer(t *testing.T) {
	out := filepath.Join(t.TempDir(), "run")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var log bytes.Buffer
	opts := append(benchOpts(t, fakeBin(t), out, &log), WithModes(ModeStandard, ModeThreaded), WithLevels(50),
		WithServerEnv("FAKESERVER_DELAY=100ms"))
	go func() {
		// Cancel in the middle of standard's burst (50 × 100 ms in a row).
		for !strings.Contains(readFile(filepath.Join(out, ModeStandard, FileServerLog)), "listening") {
			time.Sleep(20 * time.Millisecond)
		}
		time.Sleep(700 * time.Millisecond)
		cancel()
	}()
	start := time.Now()
	sum, err := Bench(ctx, opts...)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled\nlog:\n%s", err, log.String())
	}
	if took := time.Since(start); took > 4*time.Second {
		t.Errorf("cancelled bench took %s", took)
	}
	if len(sum.Modes) != 1 {
		t.Fatalf("modes = %d, want only standard", len(sum.Modes))
	}
	m := sum.Modes[0]
	if m.PID == 0 || syscall.Kill(m.PID, 0) == nil && len(groupMembers(m.PID)) > 0 {
		t.Errorf("server %d still running", m.PID)
	}
	if _, err := os.Stat(filepath.Join(out, ModeStandard, BurstName(50)+"-interrupted"+SuffixResults)); err != nil {
		t.Errorf("the interrupted burst's results were not kept: %v", err)
	}
}

func readFile(p string) string {
	b, _ := os.ReadFile(p)
	return string(b)
}

func TestBenchRefusesToClobber(t *testing.T) {
	out := t.TempDir()
	// -out bin: bin/standard is a binary, not a mode folder.
	bin := fakeBin(t)
	opts := append(benchOpts(t, bin, bin, io.Discard), WithModes(ModeStandard), WithLevels(2))
	_, err := Bench(context.Background(), opts...)
	if err == nil || !strings.Contains(err.Error(), "not a bench mode folder") {
		t.Errorf("bench -out bin: err = %v", err)
	}
	if _, err := os.Lstat(filepath.Join(bin, "standard")); err != nil {
		t.Errorf("bin/standard is gone: %v", err)
	}
	// A folder of someone else's files under a mode's name is kept too.
	if err := os.MkdirAll(filepath.Join(out, ModeStandard), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(out, ModeStandard, "notes.txt"), []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	opts = append(benchOpts(t, bin, out, io.Discard), WithModes(ModeStandard), WithLevels(2))
	if _, err := Bench(context.Background(), opts...); err == nil {
		t.Error("bench overwrote a folder it did not write")
	}
}

func TestBenchConfigErrors(t *testing.T) {
	img := fakeImage(t)
	for _, tc := range []struct {
		name string
		opts []BenchOption
		want string
	}{
		{"unknown mode", []BenchOption{WithModes("forked")}, `unknown mode "forked"`},
		{"no modes", []BenchOption{WithModes()}, "no modes"},
		{"bad level", []BenchOption{WithLevels(10, 0)}, "level 0 out of range"},
		{"no warm-up", []BenchOption{WithWarmups(0)}, "at least 1"},
		{"missing image", []BenchOption{WithImage(filepath.Join(t.TempDir(), "nope.jpg"))}, "image"},
		{"negative timeout", []BenchOption{WithRequestTimeout(-time.Second)}, "negative"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := append([]BenchOption{WithImage(img), WithOutDir(t.TempDir())}, tc.opts...)
			_, err := Bench(context.Background(), opts...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want one mentioning %q", err, tc.want)
			}
		})
	}
}

func TestParseLevelsAndModes(t *testing.T) {
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
		if err != nil || len(got) != len(tc.want) {
			t.Errorf("ParseLevels(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
			continue
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("ParseLevels(%q) = %v, want %v", tc.in, got, tc.want)
			}
		}
	}
	for _, tc := range []struct {
		in  string
		n   int
		err string
	}{
		{"standard,clustered,threaded,shared", 4, ""},
		{"threaded", 1, ""},
		{"standard,forked", 0, `unknown mode "forked"`},
		{"standard,standard", 0, "twice"},
		{" , ", 0, "no modes"},
	} {
		got, err := ParseModes(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseModes(%q) err = %v, want %q", tc.in, err, tc.err)
			}
		} else if err != nil || len(got) != tc.n {
			t.Errorf("ParseModes(%q) = %v, %v; want %d modes", tc.in, got, err, tc.n)
		}
	}
}

func TestSpec(t *testing.T) {
	for _, tc := range []struct {
		mode, bin, args string
		capacity        int
	}{
		{ModeStandard, "bin/standard", "-procs 1", 1},
		{ModeThreaded, "bin/standard", "-procs 4", 4},
		{ModeClustered, "bin/clustered", "-workers 4 -balance reuseport", 4},
		{ModeShared, "bin/clustered", "-workers 4 -balance shared", 4},
	} {
		s, err := Spec(tc.mode, "bin", 4)
		if err != nil {
			t.Fatal(err)
		}
		if s.Binary != tc.bin || strings.Join(s.Args, " ") != tc.args || s.Capacity != tc.capacity {
			t.Errorf("Spec(%s) = %+v, want %s %s, capacity %d", tc.mode, s, tc.bin, tc.args, tc.capacity)
		}
	}
	if _, err := Spec("forked", "bin", 4); err == nil {
		t.Error("Spec(forked) succeeded")
	}
}

func TestCapacityOf(t *testing.T) {
	std, _ := Spec(ModeStandard, "bin", 2)
	thr, _ := Spec(ModeThreaded, "bin", 2)
	clu, _ := Spec(ModeClustered, "bin", 2)
	for _, tc := range []struct {
		name string
		spec ModeSpec
		h    Health
		want int
	}{
		{"standard says 1", std, Health{Worker: -1, Capacity: 1}, 1},
		{"threaded says 2", thr, Health{Worker: -1, Capacity: 2}, 2},
		{"threaded says nothing", thr, Health{Worker: -1}, 2},
		{"cluster worker says 1", clu, Health{Worker: 1, Capacity: 1}, 2},
		{"cluster master says 2", clu, Health{Worker: -1, Capacity: 2}, 2},
	} {
		if got := capacityOf(tc.spec, tc.h); got != tc.want {
			t.Errorf("%s: capacity %d, want %d", tc.name, got, tc.want)
		}
	}
}

func TestTrackerETA(t *testing.T) {
	std, _ := Spec(ModeStandard, "bin", 2)
	thr, _ := Spec(ModeThreaded, "bin", 2)
	tr := newTracker(io.Discard, io.Discard, []ModeSpec{std, thr}, []int{10, 100}, 3)
	if _, ok := tr.remaining(); ok {
		t.Error("ETA known before any calibration")
	}
	tr.begin(0, -1)
	tr.calibrated(0, 1, time.Second)
	tr.begin(0, 0)
	for range 4 {
		tr.add()
	}
	// standard: 6 + 100 jobs of 1 s on 1 slot; threaded (S guessed 1 s):
	// overhead + 3 warm-ups + ceil(10/2) + ceil(100/2) rounds.
	want := 106*time.Second + perModeOverhead + 3*time.Second + 55*time.Second
	if got, _ := tr.remaining(); got != want {
		t.Errorf("remaining = %s, want %s", got, want)
	}

	// Without a bar, a status line goes to the log now and then.
	var log bytes.Buffer
	tr = newTracker(nil, &log, []ModeSpec{std}, []int{10}, 1)
	tr.statusEvery = 0
	tr.calibrated(0, 1, time.Second)
	tr.begin(0, 0)
	tr.add()
	if got, want := log.String(), "standard n=10: 1 answered, ETA 9s\n"; got != want {
		t.Errorf("status line = %q, want %q", got, want)
	}
}

func TestLastIntFlag(t *testing.T) {
	tests := []struct {
		args   []string
		want   int
		wantOK bool
	}{
		{[]string{"-workers", "2", "-balance", "reuseport"}, 2, true},
		{[]string{"-workers", "2", "-balance", "reuseport", "-workers", "1"}, 1, true},
		{[]string{"-workers=3"}, 3, true},
		{[]string{"--workers", "4"}, 4, true},
		{[]string{"-procs", "2"}, 0, false},
		{[]string{"-workers"}, 0, false},
		{[]string{"-workers", "many"}, 0, false},
	}
	for _, tt := range tests {
		got, ok := lastIntFlag(tt.args, "workers")
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("lastIntFlag(%q): got %d, %v, want %d, %v", tt.args, got, ok, tt.want, tt.wantOK)
		}
	}
}
