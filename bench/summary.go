package bench

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"

	"github.com/flipbench/flipbench/loadtest"
)

// Files of a run folder, beside one folder per mode.
const (
	FileEnv         = "env.json"
	FileSummaryJSON = "summary.json"
	FileSummaryMD   = "summary.md"
	FileMode        = "mode.json"
	FileServerLog   = "server.log"
	// dirCalibration holds the server log of a calibration-only warm-up.
	dirCalibration = "calibration"
)

// Summary is a whole run: what summary.json holds.
type Summary struct {
	Run    string `json:"run"`
	Env    Env    `json:"env"`
	Levels []int  `json:"levels"`
	// Clients are the keep-alive client counts the run asked for.
	Clients []int `json:"clients,omitempty"`
	// Calibration is the run's one S; nil when no CalibrationMode could
	// run (each mode then counts in its own warm-up's S), and in runs
	// stored before it existed.
	Calibration *Calibration `json:"calibration,omitempty"`
	Modes       []ModeRun    `json:"modes"`
}

// Calibration is where a run's S came from: a burst of CalibrationBurst on
// CalibrationMode after its warm-up, S being the time between consecutive
// answers at steady state. Runs stored before the burst existed have no
// Answers; their S is the warm-up's (Calibrate).
type Calibration struct {
	Mode   string              `json:"mode"`
	S      loadtest.Duration   `json:"s"`
	Warmup []loadtest.Duration `json:"warmup"`
	// Answers are the calibration burst's answer times, from its first send.
	Answers []loadtest.Duration `json:"answers,omitempty"`
}

// Mode returns the run of the named mode, if any.
func (s *Summary) Mode(name string) (ModeRun, bool) {
	for _, m := range s.Modes {
		if m.Mode == name {
			return m, true
		}
	}
	return ModeRun{}, false
}

// ModeRun is what bench did with one mode.
type ModeRun struct {
	Mode string `json:"mode"`
	Spec Spec   `json:"spec"`
	// Skipped says why the mode did not run (its binary or a need is missing).
	Skipped string `json:"skipped,omitempty"`
	PID     int    `json:"pid,omitempty"`
	Addr    string `json:"addr,omitempty"`
	// Health is the server's first /healthz answer.
	Health json.RawMessage `json:"healthz,omitempty"`
	// Capacity is the number of jobs the server runs at once.
	Capacity int `json:"capacity"`
	// Warmup are the latencies of the sequential warm-up requests;
	// Calibration is this mode's own S from them, for reading beside the
	// run's S.
	Warmup      []loadtest.Duration `json:"warmup"`
	Calibration loadtest.Duration   `json:"calibration"`
	// ServerJob is the median job-time header of the warm-up answers: the job
	// alone, as the server timed it. Calibration / ServerJob is the HTTP
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
	// MemoryStop says how the memory guard stopped the server, if it did;
	// the levels after it did not run.
	MemoryStop *MemoryStop `json:"memory_stop,omitempty"`
	// How the server stopped.
	ExitCode  int      `json:"exit_code"`
	Killed    bool     `json:"killed,omitempty"`
	Survivors []int    `json:"survivors,omitempty"`
	Leftovers []string `json:"leftovers,omitempty"`
	// Problems lists everything that went wrong.
	Problems []string `json:"problems,omitempty"`
}

// Level returns the metrics of the burst of n, if it ran.
func (m ModeRun) Level(n int) (loadtest.Metrics, bool) {
	for _, l := range m.Levels {
		if l.Level == n {
			return l, true
		}
	}
	return loadtest.Metrics{}, false
}

// Clients returns the metrics of the keep-alive run of c clients, if it ran.
func (m ModeRun) Clients(c int) (loadtest.KeepAliveMetrics, bool) {
	for _, k := range m.KeepAlive {
		if k.Clients == c {
			return k, true
		}
	}
	return loadtest.KeepAliveMetrics{}, false
}

// WriteSummary writes sum, modes in report order, as dir's summary.json.
func WriteSummary(dir string, sum *Summary) error {
	slices.SortStableFunc(sum.Modes, func(a, b ModeRun) int { return ModeOrder(a.Mode, b.Mode) })
	return loadtest.WriteJSON(filepath.Join(dir, FileSummaryJSON), sum)
}

// LoadSummary reads a run folder's summary.json.
func LoadSummary(dir string) (*Summary, error) {
	var sum Summary
	if err := loadtest.ReadJSON(filepath.Join(dir, FileSummaryJSON), &sum); err != nil {
		return nil, fmt.Errorf("run %s: %w", dir, err)
	}
	if sum.Run == "" {
		sum.Run = filepath.Base(filepath.Clean(dir))
	}
	return &sum, nil
}
