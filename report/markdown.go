// Package report renders stored runs for people: a run folder's summary.md
// and plots, a run re-rendered from its raw results, and two runs side by
// side. It reads what bench wrote and never starts a server or sends a
// request.
package report

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/flipbench/flipbench/contract"
	"github.com/flipbench/flipbench/internal/stats"
	"github.com/flipbench/flipbench/loadtest"
	"github.com/flipbench/flipbench/runfolder"
)

// latencyNote explains what the latency columns measure.
const latencyNote = "Latency is vegeta's: from the moment a request is sent to the end of its answer. " +
	"vegeta measures from the send, not from when the request was due; in a burst every request " +
	"is sent at the same instant, so here the two are the same and latency is also the time since the burst began."

// Write renders sum into dir, the plots and summary.md, and returns what
// summary.md says.
func Write(dir string, sum *runfolder.Summary) (string, error) {
	plots, err := WritePlots(dir, sum)
	if err != nil {
		return "", err
	}
	md := RenderMarkdown(sum, plots)
	if err := os.WriteFile(filepath.Join(dir, runfolder.FileSummaryMD), []byte(md), 0o644); err != nil {
		return md, fmt.Errorf("write summary: %w", err)
	}
	return md, nil
}

// Rerender recomputes every level's metrics and reports from the raw results
// (.bin) of a stored run, then writes summary.json, summary.md and the plots
// again. It reads env.json and each mode's mode.json, plus summary.json for
// modes that were skipped. Each round's bursts are counted in that round's
// S (a run stored before the S burst gets its S from BaselineMode's warm-up
// job time), and the figures over the rounds are computed again. A run
// stored before summary.json kept the mode order keeps its modes in the
// order they were stored (see RerenderWith).
func Rerender(dir string) (*runfolder.Summary, error) { return RerenderWith(dir, nil) }

// RerenderWith is Rerender for a runner that knows the modes known, in
// report order: a run stored before summary.json kept the mode order gets
// known as its order, so its modes sort and take their colours as in runs
// stored since (without it they keep the order they were stored in).
func RerenderWith(dir string, known []string) (*runfolder.Summary, error) {
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("run folder: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("run folder %s is not a folder", dir)
	}
	sum := &runfolder.Summary{Run: filepath.Base(filepath.Clean(dir))}
	if err := loadtest.ReadJSON(filepath.Join(dir, runfolder.FileEnv), &sum.Env); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if old, err := runfolder.LoadSummary(dir); err == nil {
		for _, m := range old.Modes {
			if m.Skipped != "" {
				sum.Modes = append(sum.Modes, m)
			}
		}
		sum.Levels, sum.Clients, sum.Rate = old.Levels, old.Clients, old.Rate
		sum.S, sum.Rounds, sum.Order = old.S, old.Rounds, old.Order
		if len(sum.Order) == 0 {
			sum.Order = storedOrder(old, known)
		}
	}

	runs, dirs, err := readModeRuns(dir, sum)
	if err != nil {
		return nil, err
	}
	for k, run := range runs {
		if err := rerenderTrial(sum, filepath.Dir(dirs[k]), run.Mode, &run.Trial); err != nil {
			return nil, err
		}
		for i := range run.Rounds {
			if err := rerenderTrial(sum, filepath.Dir(dirs[k]), run.Mode, &run.Rounds[i]); err != nil {
				return nil, err
			}
		}
		if err := loadtest.WriteJSON(filepath.Join(dirs[k], runfolder.FileMode), run); err != nil {
			return nil, err
		}
		sum.Modes = append(sum.Modes, run)
	}
	// In report order before the figures, which list the modes as they come.
	slices.SortStableFunc(sum.Modes, func(a, b runfolder.ModeRun) int { return sum.ModeOrder(a.Mode, b.Mode) })
	sum.Figures = runfolder.Aggregate(sum)
	if err := runfolder.WriteSummary(dir, sum); err != nil {
		return nil, err
	}
	_, err = Write(dir, sum)
	return sum, err
}

// storedOrder is the report order of a run stored without one: known
// with the run's modes it lacks after it, or without known the modes as
// they were stored (in the report order of their day). The modes read
// again from their folders come in the folders' order, so Rerender keeps
// it.
func storedOrder(old *runfolder.Summary, known []string) []string {
	order := slices.Clone(known)
	for _, name := range old.OrderNames() {
		if !slices.Contains(order, name) {
			order = append(order, name)
		}
	}
	return order
}

// readModeRuns reads every <mode>/mode.json of the run folder dir and
// returns them with their folders. A run from before the S burst gets its S
// from BaselineMode's warm-up job time.
func readModeRuns(dir string, sum *runfolder.Summary) ([]runfolder.ModeRun, []string, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*", runfolder.FileMode))
	if err != nil {
		return nil, nil, err
	}
	if len(paths) == 0 {
		return nil, nil, fmt.Errorf("run folder %s has no <mode>/%s: is it a bench run?", dir, runfolder.FileMode)
	}
	var (
		runs []runfolder.ModeRun
		dirs []string
	)
	for _, p := range paths {
		run, err := runfolder.LoadModeRun(p)
		if err != nil {
			return nil, nil, err
		}
		if len(run.Warmup) > 0 {
			run.WarmupJob = loadtest.Duration(runfolder.WarmupJobTime(durations(run.Warmup)))
		}
		if run.Mode == sum.BaselineName() && sum.S == nil && run.WarmupJob > 0 {
			sum.S = &runfolder.RunS{Mode: run.Mode, S: run.WarmupJob, Warmup: run.Warmup}
		}
		runs, dirs = append(runs, run), append(dirs, filepath.Dir(p))
	}
	if c := sum.S; c != nil && len(c.Answers) == 0 && len(c.Warmup) > 0 {
		c.S = loadtest.Duration(runfolder.WarmupJobTime(durations(c.Warmup))) // a run from before the S burst
	}
	return runs, dirs, nil
}

// rerenderTrial recomputes the metrics and reports of mode's trial t in
// the run folder out, adding its levels to sum's (what is counted in S is
// derived in the figures).
func rerenderTrial(sum *runfolder.Summary, out, mode string, t *runfolder.Trial) error {
	dir := runfolder.TrialDir(out, mode, t.RoundOf())
	for i, l := range t.Levels {
		name := loadtest.BurstName(l.Level)
		rs, err := loadtest.ReadResults(filepath.Join(dir, name+loadtest.SuffixResults))
		if err != nil {
			return fmt.Errorf("mode %s: %w", mode, err)
		}
		m := loadtest.Compute(rs, loadtest.Params{Capacity: t.Capacity, Timeout: l.Timeout.D()})
		m.Level, m.ServerPeakRSS, m.ServerHWM = l.Level, l.ServerPeakRSS, l.ServerHWM
		if err := loadtest.WriteReports(dir, name, rs, m); err != nil {
			return err
		}
		t.Levels[i] = m
		if !slices.Contains(sum.Levels, l.Level) {
			sum.Levels = append(sum.Levels, l.Level)
		}
	}
	for i, k := range t.KeepAlive {
		var err error
		if t.KeepAlive[i], err = rerenderKeepAlive(dir, k); err != nil {
			return fmt.Errorf("mode %s: %w", mode, err)
		}
	}
	return nil
}

func durations(ds []loadtest.Duration) []time.Duration {
	out := make([]time.Duration, len(ds))
	for i, d := range ds {
		out[i] = d.D()
	}
	return out
}

// speedup is m's throughput over standard's at the same level (the makespan
// ratio when every request succeeds; a mode that fails fast gains nothing); 0
// if unknown.
func speedup(sum *runfolder.Summary, m loadtest.Metrics) float64 {
	return overStandard(sum, m.Throughput, func(std runfolder.ModeRun) (float64, bool) {
		l, ok := std.Level(m.Level)
		return l.Throughput, ok
	})
}

// overStandard is throughput over the figure get takes from standard's run;
// 0 if unknown.
func overStandard(sum *runfolder.Summary, throughput float64, get func(runfolder.ModeRun) (float64, bool)) float64 {
	std, ok := sum.Mode(sum.BaselineName())
	if !ok {
		return 0
	}
	s, ok := get(std)
	if !ok || s <= 0 {
		return 0
	}
	return throughput / s
}

// RenderMarkdown renders the run as summary.md; plots are the plot files to
// link.
func RenderMarkdown(sum *runfolder.Summary, plots []string) string {
	var b strings.Builder
	f := runfolder.FiguresOf(sum)
	writeHeader(&b, sum, f)
	writeModes(&b, sum)
	if len(sum.Levels) > 0 { // none in an open-model run
		b.WriteString("## Bursts\n\n")
		writeBurstFigures(&b, sum, f)
		if rounds(sum) == 1 {
			b.WriteString("\n### The one round, in detail\n\n")
			writeBurstDetail(&b, sum, f)
		}
		writeServerSide(&b, sum)
		writeFailures(&b, sum)
		writeReading(&b, sum)
	}
	writeKeepAlive(&b, sum, f, plots)
	writeSweeps(&b, sum, f)
	writeRates(&b, sum, plots)
	writeProblems(&b, sum)
	writePlotLinks(&b, sum, f, plots)
	return b.String()
}

// rounds is the most trials any mode of the run had.
func rounds(sum *runfolder.Summary) int {
	k := 1
	for _, m := range sum.Modes {
		k = max(k, len(m.Trials()))
	}
	return k
}

// writeHeader writes the run's machine, inputs, S and noise.
func writeHeader(b *strings.Builder, sum *runfolder.Summary, f *runfolder.Figures) {
	e := sum.Env
	fmt.Fprintf(b, "# flipbench run `%s`\n\n", sum.Run)
	fmt.Fprintf(b, "- Date: %s\n", orUnknown(e.Date))
	fmt.Fprintf(b, "- Machine: %s, %d cores, %s memory, kernel %s (%s/%s)\n",
		orUnknown(e.CPUModel), e.Cores, gib(e.MemoryBytes), orUnknown(e.Kernel), e.OS, e.Arch)
	commit := orUnknown(e.GitCommit)
	if e.GitDirty {
		commit += " (with uncommitted changes)"
	}
	fmt.Fprintf(b, "- Go %s, commit %s\n", orUnknown(e.GoVersion), commit)
	fmt.Fprintf(b, "- Image: %s (%s, sha256 %s)\n", orUnknown(e.Image), mb(e.ImageBytes), orUnknown(e.ImageSHA256))
	fmt.Fprintf(b, "- Rounds: %d (every mode once a round, in an order that rotates from round to round)\n", rounds(sum))
	WriteNoise(b, f.Noise)
	if c := sum.S; c != nil {
		how := fmt.Sprintf("the time between answers of a burst of %d on %s after its warm-up, measured in every round", len(c.Answers), c.Mode)
		if c.Gaps > 0 && len(c.Pooled) > 0 {
			how = fmt.Sprintf("the median time between consecutive answers of %s's bursts in each round (a burst of %d after its warm-up, then bursts of %s: %d gaps in round 1)",
				c.Mode, len(c.Answers), strings.Trim(strings.Join(strings.Fields(fmt.Sprint(c.Pooled)), ", "), "[]"), c.Gaps)
		}
		if len(c.Answers) == 0 {
			how = fmt.Sprintf("the median of %s's sequential warm-up after its first request (a run from before the S burst)", c.Mode)
		}
		fmt.Fprintf(b, "- S = %s: one job on one core, %s; every ideal of a round is counted in that round's S\n\n", ivText(f.S, secText), how)
	} else {
		b.WriteString("- No run S (standard could not run): each mode's ideal is counted in its own warm-up job time, so efficiencies do not compare across modes\n\n")
	}
}

// writeModes writes the modes table: how each started (its first round).
func writeModes(b *strings.Builder, sum *runfolder.Summary) {
	b.WriteString("## Modes\n\n")
	b.WriteString("| mode | command | capacity | warm-up job time | server job | idle RSS | stop |\n|---|---|--:|--:|--:|--:|---|\n")
	for _, m := range sum.Modes {
		if m.Skipped != "" {
			fmt.Fprintf(b, "| %s | `%s` | | | | | skipped: %s |\n", m.Mode, command(m.Spec), m.Skipped)
			continue
		}
		var warm, job, rss []float64
		for _, t := range m.Trials() {
			warm, job, rss = append(warm, t.WarmupJob.D().Seconds()), append(job, t.ServerJob.D().Seconds()), append(rss, float64(t.IdleRSS))
		}
		fmt.Fprintf(b, "| %s | `%s` | %d | %s | %s | %s | %s |\n", m.Mode, command(m.Spec), m.Capacity,
			ivText(stats.Summarize(warm), secText), ivText(stats.Summarize(job), secText),
			ivText(stats.Summarize(rss), func(v float64) string { return mib(uint64(v)) }), stopText(m))
	}
	b.WriteString("\nwarm-up job time is the median latency of the mode's own sequential warm-up requests after the first (a fresh process's first job is slower), " +
		"for reading beside the run's S; it is not S. server job is the median " + contract.HeaderJobTime + " of the same requests: the job alone. " +
		"RSS is summed over the server's processes. stop is the first round's.\n\n")
}

// writeBurstDetail writes every figure of a one-round run's bursts, whose
// figures are f.
func writeBurstDetail(b *strings.Builder, sum *runfolder.Summary, f *runfolder.Figures) {
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
			id := sum.BurstIdeal(mr.Trial, m)
			fmt.Fprintf(b, "| %s | %d | %d | %s | %s | %s | %s | %s | %.2f | %s | %s | %s | %s | %s | %s | %s | %s |\n",
				mr.Mode, n, m.Successes, m.FirstAnswer, m.Latency.Median, m.Latency.P90, m.Latency.P99, m.Makespan,
				m.Throughput, idealText(f, mr.Mode, id.Makespan), efficiencyText(f, mr.Mode, id.Efficiency), times(speedup(sum, m)), pct0(m.Over30s), pct0(m.Over60s),
				workersText(m), mib(m.ServerPeakRSS), m.Timeout)
		}
	}
}

// writeFailures lists memory stops and failed requests.
func writeFailures(b *strings.Builder, sum *runfolder.Summary) {
	b.WriteString("\n")
	for _, mr := range sum.Modes {
		for _, t := range mr.Trials() {
			if t.MemoryStop != nil {
				fmt.Fprintf(b, "- %s, round %d: %s; its process group was killed and its later levels did not run.\n", mr.Mode, t.RoundOf(), t.MemoryStop)
			}
			for _, m := range t.Levels {
				if m.Successes < m.Requests {
					fmt.Fprintf(b, "- %s n=%d, round %d: %d of %d failed; status codes %s; errors: %s\n",
						mr.Mode, m.Level, t.RoundOf(), m.Requests-m.Successes, m.Requests, loadtest.FormatCounts(m.StatusCodes), errorsText(m.Errors, 3))
				}
			}
		}
	}
}

// writeReading explains the bursts' columns.
func writeReading(b *strings.Builder, sum *runfolder.Summary) {
	b.WriteString("\n### Reading the table\n\n")
	b.WriteString("- " + latencyNote + "\n")
	var spread loadtest.Duration
	for _, mr := range sum.Modes {
		for _, t := range mr.Trials() {
			for _, m := range t.Levels {
				spread = max(spread, m.SendSpread)
			}
		}
	}
	fmt.Fprintf(b, "- In every burst here, all requests were sent within %s of the first.\n", spread)
	b.WriteString("- first answer and makespan (the last answer) are measured from the first send.\n")
	b.WriteString("- req/s = successful answers / makespan. ideal = ceil(N / capacity) × S (the round's S), the makespan of a server that " +
		"keeps every slot busy; efficiency = ideal / makespan.\n")
	b.WriteString("- speedup = this mode's throughput / the baseline's at the same N in the same round (the makespan ratio when every request succeeds).\n")
	b.WriteString("- per worker: answers per " + contract.HeaderWorkerPID + ", largest first, one entry per round. In the detail table, > 30 s and > 60 s: the share of requests slower than that; " +
		"peak RSS: the most resident memory the server's processes held together during the burst (sampled every 100 ms); timeout: the client timeout of the burst.\n")
	b.WriteString("- Each mode's folder (round r > 1: its round-r folder) holds, per level, the raw results (`burst-N.bin`, open with `vegeta report` or `vegeta plot`), " +
		"vegeta's text and JSON reports, the HDR histogram (`.hdr.txt`), our metrics (`.metrics.json`) and the server's log.\n")
}

// writeProblems lists every problem of every trial.
func writeProblems(b *strings.Builder, sum *runfolder.Summary) {
	var problems []string
	for _, m := range sum.Modes {
		for _, t := range m.Trials() {
			for _, p := range t.Problems {
				problems = append(problems, fmt.Sprintf("- %s, round %d: %s", m.Mode, t.RoundOf(), p))
			}
		}
	}
	if len(problems) > 0 {
		b.WriteString("\n## Problems\n\n" + strings.Join(problems, "\n") + "\n")
	}
}

// writePlotLinks links the plots (the keep-alive plot is linked in its own
// section).
func writePlotLinks(b *strings.Builder, sum *runfolder.Summary, f *runfolder.Figures, plots []string) {
	plots = slices.DeleteFunc(slices.Clone(plots), func(p string) bool { return p == keepAlivePlot || p == ratePlot || isSweepPlot(p) })
	if len(plots) == 0 {
		return
	}
	b.WriteString("\n## Plots\n\n")
	b.WriteString("A dark stroke across a bar marks that bar's ideal: what a server that keeps every slot busy, " +
		"answering in arrival order (FIFO), would have measured; the whiskers span each figure's interval over the rounds. " +
		"answers-N draws each answer of the burst in the order they came back (the first round); dashed, each mode's ideal " +
		"staircase: the k-th answer at ceil(k / capacity) × S.")
	if note := otherEnginesNote(sum, f); note != "" {
		b.WriteString(" " + note)
	}
	b.WriteString("\n\n")
	for _, p := range plots {
		fmt.Fprintf(b, "![%s](%s)\n\n", strings.TrimSuffix(p, filepath.Ext(p)), p)
	}
}

func command(s runfolder.Spec) string {
	return strings.TrimSpace(filepath.Base(s.Binary) + " " + strings.Join(s.Args, " "))
}

func stopText(m runfolder.ModeRun) string {
	switch {
	case m.MemoryStop != nil:
		return fmt.Sprintf("killed by the memory guard at n=%d", m.MemoryStop.Level)
	case m.Killed:
		return "killed after SIGTERM timeout"
	case len(m.Problems) > 0:
		return fmt.Sprintf("exit %d, %d problem(s)", m.ExitCode, len(m.Problems))
	default:
		return fmt.Sprintf("exit %d, clean", m.ExitCode)
	}
}

func workersText(m loadtest.Metrics) string {
	if len(m.Workers) == 0 {
		return ""
	}
	return m.WorkerSplit()
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
	for _, k := range keys[:min(n, len(keys))] {
		parts = append(parts, fmt.Sprintf("%dx %q", errs[k], k))
	}
	if len(keys) > n {
		parts = append(parts, fmt.Sprintf("… %d more", len(keys)-n))
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
