package loadtest

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Files of a run folder, beside one folder per mode.
const (
	FileEnv         = "env.json"
	FileSummaryJSON = "summary.json"
	FileSummaryMD   = "summary.md"
	FileMode        = "mode.json"
	FileServerLog   = "server.log"
)

// latencyNote explains what the latency columns measure.
const latencyNote = "Latency is vegeta's: from the moment a request is sent to the end of its answer. " +
	"vegeta measures from the send, not from when the request was due; in a burst every request " +
	"is sent at the same instant, so here the two are the same and latency is also the time since the burst began."

// WriteSummary writes summary.json, summary.md and the plots of sum into dir.
func WriteSummary(dir string, sum *Summary) error {
	sortModes(sum)
	if err := WriteJSON(filepath.Join(dir, FileSummaryJSON), sum); err != nil {
		return err
	}
	plots, err := WritePlots(dir, sum)
	if err != nil {
		return err
	}
	md := RenderMarkdown(sum, plots)
	if err := os.WriteFile(filepath.Join(dir, FileSummaryMD), []byte(md), 0o644); err != nil {
		return fmt.Errorf("write summary: %w", err)
	}
	return nil
}

// sortModes puts modes in report order.
func sortModes(sum *Summary) {
	slices.SortStableFunc(sum.Modes, func(a, b ModeRun) int { return modeOrder(a.Mode, b.Mode) })
}

// LoadSummary reads a run folder's summary.json.
func LoadSummary(dir string) (*Summary, error) {
	var sum Summary
	if err := ReadJSON(filepath.Join(dir, FileSummaryJSON), &sum); err != nil {
		return nil, fmt.Errorf("run %s: %w", dir, err)
	}
	if sum.Run == "" {
		sum.Run = filepath.Base(filepath.Clean(dir))
	}
	return &sum, nil
}

// Rerender recomputes every level's metrics and reports from the raw results
// (.bin) of a stored run, then writes the summary and plots again. It reads
// env.json and each mode's mode.json, plus summary.json for modes that were
// skipped.
func Rerender(dir string) (*Summary, error) {
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("run folder: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("run folder %s is not a folder", dir)
	}
	sum := &Summary{Run: filepath.Base(filepath.Clean(dir))}
	if err := ReadJSON(filepath.Join(dir, FileEnv), &sum.Env); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	var old Summary
	if err := ReadJSON(filepath.Join(dir, FileSummaryJSON), &old); err == nil {
		for _, m := range old.Modes {
			if m.Skipped != "" {
				sum.Modes = append(sum.Modes, m)
			}
		}
		sum.Levels = old.Levels
	}

	paths, err := filepath.Glob(filepath.Join(dir, "*", FileMode))
	if err != nil {
		return nil, err
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("run folder %s has no <mode>/%s: is it a bench run?", dir, FileMode)
	}
	for _, p := range paths {
		var run ModeRun
		if err := ReadJSON(p, &run); err != nil {
			return nil, err
		}
		modeDir := filepath.Dir(p)
		if len(run.Warmup) > 0 {
			// S is derived, so a run stored by an older rule is brought up to date.
			warm := make([]time.Duration, len(run.Warmup))
			for i, d := range run.Warmup {
				warm[i] = d.D()
			}
			run.Calibration = Duration(calibrate(warm))
		}
		for i, l := range run.Levels {
			name := BurstName(l.Level)
			rs, err := ReadResults(filepath.Join(modeDir, name+SuffixResults))
			if err != nil {
				return nil, fmt.Errorf("mode %s: %w", run.Mode, err)
			}
			m := Compute(rs, Params{Capacity: run.Capacity, Calibration: run.Calibration.D(), Timeout: l.Timeout.D()})
			m.Level, m.ServerPeakRSS, m.ServerHWM = l.Level, l.ServerPeakRSS, l.ServerHWM
			if err := writeReports(modeDir, name, rs, m); err != nil {
				return nil, err
			}
			run.Levels[i] = m
			if !slices.Contains(sum.Levels, l.Level) {
				sum.Levels = append(sum.Levels, l.Level)
			}
		}
		if err := WriteJSON(p, run); err != nil {
			return nil, err
		}
		sum.Modes = append(sum.Modes, run)
	}
	if err := WriteSummary(dir, sum); err != nil {
		return nil, err
	}
	return sum, nil
}

// speedup is m's throughput over standard's at the same level (the makespan
// ratio when every request succeeds; a mode that fails fast gains nothing); 0
// if unknown.
func speedup(sum *Summary, m Metrics) float64 {
	std, ok := sum.Mode(ModeStandard)
	if !ok {
		return 0
	}
	s, ok := std.Level(m.Level)
	if !ok || s.Throughput <= 0 {
		return 0
	}
	return m.Throughput / s.Throughput
}

// RenderMarkdown renders the run as summary.md; plots are the plot files to
// link.
func RenderMarkdown(sum *Summary, plots []string) string {
	var b strings.Builder
	e := sum.Env
	fmt.Fprintf(&b, "# flipbench run `%s`\n\n", sum.Run)
	fmt.Fprintf(&b, "- Date: %s\n", orUnknown(e.Date))
	fmt.Fprintf(&b, "- Machine: %s, %d cores, %s memory, kernel %s (%s/%s)\n",
		orUnknown(e.CPUModel), e.Cores, gib(e.MemoryBytes), orUnknown(e.Kernel), e.OS, e.Arch)
	commit := orUnknown(e.GitCommit)
	if e.GitDirty {
		commit += " (with uncommitted changes)"
	}
	fmt.Fprintf(&b, "- Go %s, commit %s\n", orUnknown(e.GoVersion), commit)
	fmt.Fprintf(&b, "- Image: %s (%s, sha256 %s)\n\n", orUnknown(e.Image), mb(e.ImageBytes), orUnknown(e.ImageSHA256))

	b.WriteString("## Modes\n\n")
	b.WriteString("| mode | command | capacity | calibration S | server job | idle RSS | stop |\n|---|---|--:|--:|--:|--:|---|\n")
	for _, m := range sum.Modes {
		if m.Skipped != "" {
			fmt.Fprintf(&b, "| %s | `%s` | | | | | skipped: %s |\n", m.Mode, command(m.Spec), m.Skipped)
			continue
		}
		fmt.Fprintf(&b, "| %s | `%s` | %d | %s | %s | %s | %s |\n", m.Mode, command(m.Spec), m.Capacity, m.Calibration, m.ServerJob, mib(m.IdleRSS), stopText(m))
	}
	b.WriteString("\nS is the median latency of the sequential warm-up requests after the first (a fresh process's first job is slower): the time of one job on this machine, now, " +
		"as the client sees it. server job is the median X-Job-Time of the same requests: the job alone. " +
		"RSS is summed over the server's processes.\n\n")

	b.WriteString("## Bursts\n\n")
	b.WriteString("| mode | N | ok | first answer | median | p90 | p99 | last answer | req/s | ideal | efficiency | speedup | > 30 s | > 60 s | per worker | peak RSS | timeout |\n")
	b.WriteString("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|--:|--:|\n")
	levels := slices.Clone(sum.Levels)
	slices.Sort(levels)
	for _, n := range levels {
		for _, mr := range sum.Modes {
			m, ok := mr.Level(n)
			if !ok {
				continue
			}
			fmt.Fprintf(&b, "| %s | %d | %d | %s | %s | %s | %s | %s | %.2f | %s | %s | %s | %s | %s | %s | %s | %s |\n",
				mr.Mode, n, m.Successes, m.FirstAnswer, m.Latency.Median, m.Latency.P90, m.Latency.P99, m.Makespan,
				m.Throughput, m.Ideal, pct(m.Efficiency), times(speedup(sum, m)), pct0(m.Over30s), pct0(m.Over60s),
				workersText(m), mib(m.ServerPeakRSS), m.Timeout)
		}
	}
	b.WriteString("\n")
	for _, mr := range sum.Modes {
		for _, m := range mr.Levels {
			if m.Successes < m.Requests {
				fmt.Fprintf(&b, "- %s n=%d: %d of %d failed; status codes %s; errors: %s\n",
					mr.Mode, m.Level, m.Requests-m.Successes, m.Requests, FormatCounts(m.StatusCodes), errorsText(m.Errors, 3))
			}
		}
	}

	b.WriteString("\n### Reading the table\n\n")
	b.WriteString("- " + latencyNote + "\n")
	var spread Duration
	for _, mr := range sum.Modes {
		for _, m := range mr.Levels {
			spread = max(spread, m.SendSpread)
		}
	}
	fmt.Fprintf(&b, "- In every burst here, all requests were sent within %s of the first.\n", spread)
	b.WriteString("- first answer and last answer are measured from the first send; last answer is the makespan.\n")
	b.WriteString("- req/s = successful answers / makespan. ideal = ceil(N / capacity) × S, the makespan of a server that " +
		"keeps every slot busy; efficiency = ideal / makespan.\n")
	b.WriteString("- speedup = this mode's throughput / standard's at the same N (the makespan ratio when every request succeeds).\n")
	b.WriteString("- > 30 s and > 60 s: the share of requests slower than that, which a client with that timeout would have lost.\n")
	b.WriteString("- per worker: answers per X-Worker-PID, largest first. peak RSS: the most resident memory the server's processes " +
		"held together during the burst (sampled every 100 ms). timeout: the client timeout of the burst.\n")
	b.WriteString("- Each mode's folder holds, per level, the raw results (`burst-N.bin`, open with `vegeta report` or `vegeta plot`), " +
		"vegeta's text and JSON reports, the HDR histogram (`.hdr.txt`), our metrics (`.metrics.json`) and the server's log.\n")
	var problems []string
	for _, m := range sum.Modes {
		for _, p := range m.Problems {
			problems = append(problems, fmt.Sprintf("- %s: %s", m.Mode, p))
		}
	}
	if len(problems) > 0 {
		b.WriteString("\n## Problems\n\n" + strings.Join(problems, "\n") + "\n")
	}
	if len(plots) > 0 {
		b.WriteString("\n## Plots\n\n")
		for _, p := range plots {
			fmt.Fprintf(&b, "![%s](%s)\n\n", strings.TrimSuffix(p, filepath.Ext(p)), p)
		}
	}
	return b.String()
}

func command(s ModeSpec) string {
	return strings.TrimSpace(filepath.Base(s.Binary) + " " + strings.Join(s.Args, " "))
}

func stopText(m ModeRun) string {
	switch {
	case m.Killed:
		return "killed after SIGTERM timeout"
	case len(m.Problems) > 0:
		return fmt.Sprintf("exit %d, %d problem(s)", m.ExitCode, len(m.Problems))
	default:
		return fmt.Sprintf("exit %d, clean", m.ExitCode)
	}
}

func workersText(m Metrics) string {
	if len(m.Workers) == 0 {
		return ""
	}
	return workerSplit(m)
}

func errorsText(errs map[string]int, n int) string {
	keys := make([]string, 0, len(errs))
	for k := range errs {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int {
		if errs[a] != errs[b] {
			return errs[b] - errs[a]
		}
		return strings.Compare(a, b)
	})
	var parts []string
	for _, k := range firstN(keys, n) {
		if c, ok := errs[k]; ok {
			parts = append(parts, fmt.Sprintf("%dx %q", c, k))
		} else {
			parts = append(parts, k)
		}
	}
	return strings.Join(parts, "; ")
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

func gib(b uint64) string {
	if b == 0 {
		return "unknown"
	}
	return fmt.Sprintf("%.1f GiB", float64(b)/(1<<30))
}

func mib(b uint64) string {
	if b == 0 {
		return "–"
	}
	return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20))
}

func mb(b int64) string {
	if b == 0 {
		return "size unknown"
	}
	return fmt.Sprintf("%.2f MB", float64(b)/1e6)
}

func pct(f float64) string {
	if f == 0 {
		return "–"
	}
	return fmt.Sprintf("%.0f%%", 100*f)
}

func pct0(f float64) string { return fmt.Sprintf("%.0f%%", 100*f) }

func times(f float64) string {
	if f == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f×", f)
}

// FormatCounts renders a count map as "200:6 503:2", keys in order.
func FormatCounts(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s:%d", k, m[k])
	}
	return strings.Join(parts, " ")
}
