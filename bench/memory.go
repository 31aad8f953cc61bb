package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/dustin/go-humanize"
)

// DefaultMaxRSSShare is the share of the machine's memory a server's
// processes may hold together before the guard stops it.
const DefaultMaxRSSShare = 0.5

// ParseSize reads a memory size such as "1500MiB", "8GiB" or "2GB".
func ParseSize(s string) (uint64, error) {
	n, err := humanize.ParseBytes(s)
	if err != nil {
		return 0, fmt.Errorf("size %q: %w (want e.g. 1500MiB or 8GiB)", s, err)
	}
	if n == 0 {
		return 0, fmt.Errorf("size %q: must be more than 0", s)
	}
	return n, nil
}

// MemoryStop is how the memory guard stopped a server in the middle of a
// burst.
type MemoryStop struct {
	Level    int    `json:"level"`          // the burst it stopped
	RSS      uint64 `json:"rss_bytes"`      // the summed RSS that passed the budget
	Budget   uint64 `json:"budget_bytes"`   // the budget
	InFlight int    `json:"jobs_in_flight"` // requests sent and not yet answered then
}

func (m MemoryStop) String() string {
	return fmt.Sprintf("stopped for memory at n=%d: %s of RSS over the %s budget with %d jobs in flight",
		m.Level, humanize.IBytes(m.RSS), humanize.IBytes(m.Budget), m.InFlight)
}

// memWatch samples the summed RSS of a server's process group every interval
// during a burst, keeps the peak and, when the sum passes budget (0: no
// budget), kills the whole group before it takes the machine down.
type memWatch struct {
	stop chan struct{}
	done chan struct{}

	mu   sync.Mutex
	peak uint64
	trip *MemoryStop // set when the guard killed the group
}

// watchMemory starts watching group pgid during the burst of n; inFlight
// reports the jobs in flight when the guard trips.
func watchMemory(pgid int, interval time.Duration, budget uint64, n int, inFlight func() int) *memWatch {
	w := &memWatch{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			rss := groupRSS(pgid)
			w.mu.Lock()
			w.peak = max(w.peak, rss)
			if budget > 0 && rss > budget && w.trip == nil {
				_ = syscall.Kill(-pgid, syscall.SIGKILL)
				w.trip = &MemoryStop{Level: n, RSS: rss, Budget: budget, InFlight: inFlight()}
			}
			w.mu.Unlock()
			select {
			case <-w.stop:
				return
			case <-t.C:
			}
		}
	}()
	return w
}

// end stops watching and returns the peak RSS seen and, if the guard killed
// the server, how.
func (w *memWatch) end() (uint64, *MemoryStop) {
	close(w.stop)
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.peak, w.trip
}

// groupMembers returns the live (not zombie) processes of process group pgid,
// read from /proc.
func groupMembers(pgid int) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid pgrp ...; comm may hold spaces and parens.
		rest := string(b)
		if i := strings.LastIndexByte(rest, ')'); i >= 0 {
			rest = rest[i+1:]
		}
		f := strings.Fields(rest)
		if len(f) < 3 || f[0] == "Z" || f[0] == "X" {
			continue
		}
		if g, err := strconv.Atoi(f[2]); err == nil && g == pgid {
			pids = append(pids, pid)
		}
	}
	return pids
}

// groupRSS returns the summed resident memory (VmRSS) of the live processes
// of group pgid, in bytes; 0 when /proc cannot tell. Shared pages are counted
// once per process.
func groupRSS(pgid int) uint64 { return groupStatus(pgid, "VmRSS:") }

// groupHWM returns the summed peak resident memory (VmHWM, the kernel's own
// high-water mark, which no sampling interval can miss) of the live processes
// of group pgid, in bytes.
func groupHWM(pgid int) uint64 { return groupStatus(pgid, "VmHWM:") }

// groupStatus sums a kB field of /proc/PID/status over group pgid, in bytes.
func groupStatus(pgid int, field string) uint64 {
	var total uint64
	for _, pid := range groupMembers(pgid) {
		b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "status"))
		if err != nil {
			continue
		}
		for line := range strings.SplitSeq(string(b), "\n") {
			f := strings.Fields(line)
			if len(f) >= 2 && f[0] == field {
				if kb, err := strconv.ParseUint(f[1], 10, 64); err == nil {
					total += kb * 1024
				}
				break
			}
		}
	}
	return total
}
