package procfs

import (
	"os"
	"strconv"
	"strings"
)

// MachineCPU is the machine's CPU time so far, summed over every CPU, in
// clock ticks (USER_HZ), from the first line of /proc/stat.
type MachineCPU struct {
	Busy  uint64 // user, nice, system, irq, softirq
	Steal uint64 // taken by the hypervisor for other guests
	Total uint64 // every column, idle and iowait included
}

// ReadMachineCPU reads /proc/stat; zero when it cannot.
func ReadMachineCPU() MachineCPU {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return MachineCPU{}
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return MachineCPU{}
	}
	var v [8]uint64 // user nice system idle iowait irq softirq steal
	for i := range v {
		v[i], _ = strconv.ParseUint(f[i+1], 10, 64)
	}
	c := MachineCPU{Busy: v[0] + v[1] + v[2] + v[5] + v[6], Steal: v[7]}
	for _, x := range v {
		c.Total += x
	}
	return c
}

// ProcessTicks returns the CPU time of pid and of the children it reaped
// (utime, stime, cutime, cstime of /proc/PID/stat), in clock ticks.
func ProcessTicks(pid int) uint64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	rest := string(b)
	if i := strings.LastIndexByte(rest, ')'); i >= 0 {
		rest = rest[i+1:]
	}
	f := strings.Fields(rest)
	if len(f) < 15 {
		return 0
	}
	var sum uint64
	for _, s := range f[11:15] { // fields 14-17 of stat; rest starts at field 3
		n, _ := strconv.ParseUint(s, 10, 64)
		sum += n
	}
	return sum
}

// GroupTicks returns the summed ProcessTicks of the live members of group
// pgid.
func GroupTicks(pgid int) uint64 {
	var sum uint64
	for _, pid := range GroupMembers(pgid) {
		sum += ProcessTicks(pid)
	}
	return sum
}

// Load1 returns the one-minute load average; 0 when unknown.
func Load1() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0
	}
	v, _ := strconv.ParseFloat(f[0], 64)
	return v
}

// TicksPerSecond is USER_HZ, the unit of /proc's CPU times: 100 on every
// Linux this runs on.
const TicksPerSecond = 100
