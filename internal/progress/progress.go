// Package progress shows where a long bench is: a progress bar over every
// request it will send, with an ETA from the work left, or, without a
// terminal, a status line now and then; and log lines above the bar.
package progress

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/flipbench/flipbench/loadtest"
	"github.com/schollz/progressbar/v3"
)

// Tracker shows a bench's progress: a bar over every request the bench will
// send, and an ETA from the work left: for each burst still to come,
// ceil(N / capacity) × S, where S is the slot's job time (or, before a
// slot is sized, the last one seen). Messages are printed above
// the bar.
type Tracker struct {
	mu      sync.Mutex
	bar     *progressbar.ProgressBar // nil: no bar
	log     io.Writer
	slots   []Slot
	warmups int
	est     []time.Duration // per mode: S (0 until known)
	caps    []int           // per mode: capacity
	mode    int             // current mode index
	level   int             // current level index; -1 during warm-up
	done    int             // answers in the current level (or warm-up)
	lastS   time.Duration
	halted  bool // the bench stopped early: draw nothing more
	// Without a bar, a status line goes to log every statusEvery, also
	// while no answer comes (a Node burst answers all at once at its end).
	statusEvery time.Duration
	lastStatus  time.Time
	stop        chan struct{} // closed by Finish: ends the heartbeat
}

// defaultStatusEvery is how often a bench without a progress bar logs where
// it is, so a long burst in a CI log is not silent for minutes.
const defaultStatusEvery = 30 * time.Second

// perModeOverhead is a guess at the time to start, warm up and stop a server
// beyond its jobs.
const perModeOverhead = 2 * time.Second

// Slot is one start of a server the tracker follows: its name ("standard",
// "standard, round 2") and the burst sizes it fires.
type Slot struct {
	Name   string
	Levels []int
}

// New tracks slots, each with warmups sequential requests first; bar nil
// draws no bar.
func New(bar, log io.Writer, slots []Slot, warmups int) *Tracker {
	t := &Tracker{log: log, slots: slots, warmups: warmups, level: -1,
		statusEvery: defaultStatusEvery, lastStatus: time.Now(), stop: make(chan struct{})}
	if t.log == nil {
		t.log = io.Discard
	}
	for range slots {
		t.est = append(t.est, 0)
		t.caps = append(t.caps, 1)
	}
	if bar != nil {
		total := 0
		for _, sl := range slots {
			total += warmups
			for _, n := range sl.Levels {
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
	go t.heartbeat()
	return t
}

// heartbeat redraws the bar (its elapsed time) every second and, without a
// bar, writes the status line when it is due, until Finish.
func (t *Tracker) heartbeat() {
	tick := time.NewTicker(heartbeatEvery)
	defer tick.Stop()
	for {
		select {
		case <-t.stop:
			return
		case <-tick.C:
		}
		t.mu.Lock()
		if !t.halted {
			if t.bar != nil {
				t.describe()
			} else {
				t.status()
			}
		}
		t.mu.Unlock()
	}
}

// heartbeatEvery is how often the heartbeat looks.
const heartbeatEvery = time.Second

// SetStatusEvery sets how often, without a bar, a status line goes to the log.
func (t *Tracker) SetStatusEvery(d time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.statusEvery = d
}

// status writes the status line when one is due; t.mu is held.
func (t *Tracker) status() {
	if t.mode >= len(t.slots) || time.Since(t.lastStatus) < t.statusEvery {
		return
	}
	t.lastStatus = time.Now()
	fmt.Fprintf(t.log, "%s: %d answered, %s\n", t.where(), t.done, t.eta())
}

// Sized records slot i's capacity and the job time its ETA counts in.
func (t *Tracker) Sized(i, capacity int, s time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.caps[i] = max(1, capacity)
	t.est[i] = s
	t.lastS = s
}

// Begin marks the start of mode i's level j (j = -1: the warm-up).
func (t *Tracker) Begin(i, j int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.mode, t.level, t.done = i, j, 0
	t.describe()
}

// Skip removes the current mode's requests from the bar (the mode did not
// run or stopped early); answered is how many of them were counted already.
func (t *Tracker) Skip(answered int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.bar == nil || t.halted {
		return
	}
	n := t.warmups
	for _, l := range t.slots[t.mode].Levels {
		n += l
	}
	t.bar.ChangeMax(t.bar.GetMax() - (n - answered))
	t.describe()
}

// Add counts one answer.
func (t *Tracker) Add() {
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
	t.status()
}

// Logf prints a line above the bar.
func (t *Tracker) Logf(format string, args ...any) {
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

// Finish ends the bar: filled when the bench completed, left as it was
// (and no longer drawn) when it stopped early.
func (t *Tracker) Finish(completed bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.bar != nil && !t.halted {
		if completed {
			_ = t.bar.Finish()
		}
		_ = t.bar.Clear()
		_ = t.bar.Exit()
	}
	if !t.halted {
		close(t.stop)
	}
	t.halted = true
}

// Halt stops counting and drawing (the bench was cancelled).
func (t *Tracker) Halt() {
	t.Finish(false)
}

// describe sets the bar's text: where the bench is and its ETA.
func (t *Tracker) describe() {
	if t.bar == nil || t.halted || t.mode >= len(t.slots) {
		return
	}
	t.bar.Describe(t.where() + " · " + t.eta())
}

// where names the current step: "standard warm-up", "standard n=100".
func (t *Tracker) where() string {
	if t.mode >= len(t.slots) {
		return "done"
	}
	sl := t.slots[t.mode]
	if t.level < 0 || t.level >= len(sl.Levels) {
		return sl.Name + " warm-up"
	}
	return fmt.Sprintf("%s n=%d", sl.Name, sl.Levels[t.level])
}

// eta renders the estimated time left.
func (t *Tracker) eta() string {
	if left, ok := t.Remaining(); ok {
		return "ETA " + left.Round(time.Second).String()
	}
	return "ETA after the first warm-up"
}

// Remaining estimates the time left; false until some S is known.
func (t *Tracker) Remaining() (time.Duration, bool) {
	if t.lastS == 0 {
		return 0, false
	}
	var left time.Duration
	for i := t.mode; i < len(t.slots); i++ {
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
		for j := first; j < len(t.slots[i].Levels); j++ {
			n := t.slots[i].Levels[j]
			if i == t.mode && j == t.level {
				n = max(n-t.done, 0)
			}
			left += loadtest.IdealMakespan(n, c, s)
		}
	}
	return left, true
}
