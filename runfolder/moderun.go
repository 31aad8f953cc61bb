package runfolder

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"time"

	"github.com/flipbench/flipbench/internal/stats"
	"github.com/flipbench/flipbench/loadtest"
)

// ModeRun is what bench did with one mode: its first round's trial inline
// (the shape of runs stored before rounds existed, so they still load) and
// the trials of later rounds in Rounds.
type ModeRun struct {
	Mode string `json:"mode"`
	Spec Spec   `json:"spec"`
	// Skipped says why the mode did not run (its binary or a need is missing).
	Skipped string `json:"skipped,omitempty"`
	Trial
	// Rounds are the trials of rounds 2, 3, ...
	Rounds []Trial `json:"more_rounds,omitempty"`
}

// Trial is one start of a mode's server, from start to stop, in one round.
type Trial struct {
	Round int    `json:"round,omitempty"` // from 1; 0 in older runs (one round)
	PID   int    `json:"pid,omitempty"`
	Addr  string `json:"addr,omitempty"`
	// Health is the server's first /healthz answer.
	Health json.RawMessage `json:"healthz,omitempty"`
	// Capacity is the number of jobs the server runs at once.
	Capacity int `json:"capacity"`
	// Warmup are the latencies of the sequential warm-up requests;
	// WarmupJob is their WarmupJobTime, for reading beside the run's S.
	Warmup    []loadtest.Duration `json:"warmup"`
	WarmupJob loadtest.Duration   `json:"warmup_job"`
	// ServerJob is the median job-time header of the warm-up answers: the
	// job alone, as the server timed it. WarmupJob / ServerJob is the HTTP
	// overhead.
	ServerJob loadtest.Duration `json:"server_job"`
	// IdleRSS is the server's resident memory (all its processes) after
	// the warm-up.
	IdleRSS uint64 `json:"idle_rss_bytes,omitempty"`
	// WarmupHWM is the summed VmHWM of the server's processes after the
	// sequential warm-up: the peak memory of one job at a time.
	WarmupHWM uint64             `json:"warmup_hwm_bytes,omitempty"`
	Levels    []loadtest.Metrics `json:"levels"`
	// KeepAlive holds the keep-alive client runs, after the bursts.
	KeepAlive []loadtest.KeepAliveMetrics `json:"keepalive,omitempty"`
	// Rates holds the open-model steps, after the keep-alive clients.
	Rates []RateStep `json:"rates,omitempty"`
	// MemoryStop says how the memory guard stopped the server, if it did;
	// the levels after it did not run.
	MemoryStop *MemoryStop `json:"memory_stop,omitempty"`
	// Noise is what else the machine did while the trial ran.
	Noise *Noise `json:"noise,omitempty"`
	// How the server stopped.
	ExitCode  int      `json:"exit_code"`
	Killed    bool     `json:"killed,omitempty"`
	Survivors []int    `json:"survivors,omitempty"`
	Leftovers []string `json:"leftovers,omitempty"`
	// Problems lists everything that went wrong.
	Problems []string `json:"problems,omitempty"`
}

// Trials returns every trial of the mode, first round first.
func (m ModeRun) Trials() []Trial {
	if m.Skipped != "" {
		return nil
	}
	return append([]Trial{m.Trial}, m.Rounds...)
}

// Level returns the metrics of the burst of n, if it ran.
func (t Trial) Level(n int) (loadtest.Metrics, bool) {
	for _, l := range t.Levels {
		if l.Level == n {
			return l, true
		}
	}
	return loadtest.Metrics{}, false
}

// Clients returns the metrics of the keep-alive run of c clients, if it ran.
func (t Trial) Clients(c int) (loadtest.KeepAliveMetrics, bool) {
	for _, k := range t.KeepAlive {
		if k.Clients == c {
			return k, true
		}
	}
	return loadtest.KeepAliveMetrics{}, false
}

// RoundOf is the trial's round, 1 in runs stored before rounds existed.
func (t Trial) RoundOf() int { return max(t.Round, 1) }

// TrialDir is the folder of a mode's trial in round r: the mode's folder for
// the first round (the layout of one-round runs), round-<r> inside it after.
func TrialDir(out, mode string, r int) string {
	dir := filepath.Join(out, mode)
	if r > 1 {
		dir = filepath.Join(dir, fmt.Sprintf("round-%d", r))
	}
	return dir
}

// WarmupJobTime is a mode's warm-up job time: the median of its sequential
// warm-up latencies, leaving out the first when there are three or more,
// because a fresh process's first job is slower (its heap grows, its pages
// fault in). It is not the run's S: a sequential request also pays for what
// a burst overlaps with the job before.
func WarmupJobTime(warm []time.Duration) time.Duration {
	if len(warm) > 2 {
		warm = warm[1:]
	}
	return stats.Median(warm)
}

// Durations converts stored durations.
func Durations(ds []loadtest.Duration) []time.Duration {
	out := make([]time.Duration, len(ds))
	for i, d := range ds {
		out[i] = d.D()
	}
	return out
}

// RoundTrial returns the mode's trial of round r, nil when it has none.
func (m *ModeRun) RoundTrial(r int) *Trial {
	if m.Trial.RoundOf() == r && m.Skipped == "" {
		return &m.Trial
	}
	for i := range m.Rounds {
		if m.Rounds[i].Round == r {
			return &m.Rounds[i]
		}
	}
	return nil
}
