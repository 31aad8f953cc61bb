package bench

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/flipbench/flipbench/loadtest"
	"github.com/schollz/progressbar/v3"
)

// tracker shows a bench's progress: a bar over every request the bench will
// send, and an ETA from the work left: for each burst still to come,
// ceil(N / capacity) × S, where S is the mode's calibration (or, before a
// mode is calibrated, the last calibration seen). Messages are printed above
// the bar.
type tracker struct {
	mu      sync.Mutex
	bar     *progressbar.ProgressBar // nil: no bar
	log     io.Writer
	modes   []string
	levels  []int
	warmups int
	est     []time.Duration // per mode: S (0 until known)
	caps    []int           // per mode: capacity
	mode    int             // current mode index
	level   int             // current level index; -1 during warm-up
	done    int             // answers in the current level (or warm-up)
	lastS   time.Duration
	halted  bool // the bench stopped early: draw nothing more
	// Without a bar, a status line goes to log every statusEvery.
	statusEvery time.Duration
	lastStatus  time.Time
}

// defaultStatusEvery is how often a bench without a progress bar logs where
// it is, so a long burst in a CI log is not silent for minutes.
const defaultStatusEvery = 30 * time.Second

// perModeOverhead is a guess at the time to start, warm up and stop a server
// beyond its jobs.
const perModeOverhead = 2 * time.Second

func newTracker(bar, log io.Writer, modes []string, levels []int, warmups int) *tracker {
	t := &tracker{log: log, modes: modes, levels: levels, warmups: warmups, level: -1,
		statusEvery: defaultStatusEvery, lastStatus: time.Now()}
	if t.log == nil {
		t.log = io.Discard
	}
	for range modes {
		t.est = append(t.est, 0)
		t.caps = append(t.caps, 1)
	}
	if bar != nil {
		total := 0
		for range modes {
			total += warmups
			for _, n := range levels {
				total += n
			}
		}
		t.bar = progressbar.NewOptions(total,
			progressbar.OptionSetWriter(bar),
			progressbar.OptionSetWidth(30),
			progressbar.OptionShowCount(),
			progressbar.OptionSetPredictTime(false),
			progressbar.OptionSetElapsedTime(true),
			progressbar.OptionThrottle(200*time.Millisecond),
			progressbar.OptionSetRenderBlankState(true),
			progressbar.OptionShowDescriptionAtLineEnd(),
		)
	}
	return t
}

// calibrated records mode i's capacity and S.
func (t *tracker) calibrated(i, capacity int, s time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.caps[i] = max(1, capacity)
	t.est[i] = s
	t.lastS = s
}

// begin marks the start of mode i's level j (j = -1: the warm-up).
func (t *tracker) begin(i, j int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.mode, t.level, t.done = i, j, 0
	t.describe()
}

// skip removes the current mode's requests from the bar (the mode did not
// run or stopped early); answered is how many of them were counted already.
func (t *tracker) skip(answered int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.bar == nil || t.halted {
		return
	}
	n := t.warmups
	for _, l := range t.levels {
		n += l
	}
	t.bar.ChangeMax(t.bar.GetMax() - (n - answered))
	t.describe()
}

// add counts one answer.
func (t *tracker) add() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.halted {
		return
	}
	t.done++
	if t.bar != nil {
		_ = t.bar.Add(1)
		t.describe()
		return
	}
	if time.Since(t.lastStatus) >= t.statusEvery {
		t.lastStatus = time.Now()
		fmt.Fprintf(t.log, "%s: %d answered, %s\n", t.where(), t.done, t.eta())
	}
}

// logf prints a line above the bar.
func (t *tracker) logf(format string, args ...any) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.bar != nil {
		_ = t.bar.Clear()
	}
	fmt.Fprintf(t.log, format+"\n", args...)
	if t.bar != nil && !t.halted {
		_ = t.bar.RenderBlank()
	}
}

// finish ends the bar: filled when the bench completed, left as it was
// (and no longer drawn) when it stopped early.
func (t *tracker) finish(completed bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.bar != nil && !t.halted {
		if completed {
			_ = t.bar.Finish()
		}
		_ = t.bar.Clear()
		_ = t.bar.Exit()
	}
	t.halted = true
}

// halt stops counting and drawing (the bench was cancelled).
func (t *tracker) halt() {
	t.finish(false)
}

// describe sets the bar's text: where the bench is and its ETA.
func (t *tracker) describe() {
	if t.bar == nil || t.halted || t.mode >= len(t.modes) {
		return
	}
	t.bar.Describe(t.where() + " · " + t.eta())
}

// where names the current step: "standard warm-up", "standard n=100".
func (t *tracker) where() string {
	if t.mode >= len(t.modes) {
		return "done"
	}
	if t.level < 0 {
		return t.modes[t.mode] + " warm-up"
	}
	return fmt.Sprintf("%s n=%d", t.modes[t.mode], t.levels[t.level])
}

// eta renders the estimated time left.
func (t *tracker) eta() string {
	if left, ok := t.remaining(); ok {
		return "ETA " + left.Round(time.Second).String()
	}
	return "ETA after calibration"
}

// remaining estimates the time left; false until some S is known.
func (t *tracker) remaining() (time.Duration, bool) {
	if t.lastS == 0 {
		return 0, false
	}
	var left time.Duration
	for i := t.mode; i < len(t.modes); i++ {
		s, c := t.est[i], t.caps[i]
		if s == 0 {
			s = t.lastS
		}
		first := 0
		if i == t.mode {
			first = max(t.level, 0)
			if t.level < 0 {
				left += time.Duration(max(t.warmups-t.done, 0)) * s
			}
		} else {
			left += perModeOverhead + time.Duration(t.warmups)*s
		}
		for j := first; j < len(t.levels); j++ {
			n := t.levels[j]
			if i == t.mode && j == t.level {
				n = max(n-t.done, 0)
			}
			left += loadtest.IdealMakespan(n, c, s)
		}
	}
	return left, true
}
