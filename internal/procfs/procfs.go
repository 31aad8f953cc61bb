// Package procfs reads what Linux's /proc says about processes and the
// machine: the live members of a process group, their summed memory, and the
// machine's memory. What /proc cannot tell reads as zero or empty.
package procfs

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// GroupMembers returns the live (not zombie) processes of process group pgid,
// read from /proc.
func GroupMembers(pgid int) []int {
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

// GroupRSS returns the summed resident memory (VmRSS) of the live processes
// of group pgid, in bytes; 0 when /proc cannot tell. Shared pages are counted
// once per process.
func GroupRSS(pgid int) uint64 { return groupStatus(pgid, "VmRSS:") }

// GroupHWM returns the summed peak resident memory (VmHWM, the kernel's own
// high-water mark, which no sampling interval can miss) of the live processes
// of group pgid, in bytes.
func GroupHWM(pgid int) uint64 { return groupStatus(pgid, "VmHWM:") }

// groupStatus sums a kB field of /proc/PID/status over group pgid, in bytes.
func groupStatus(pgid int, field string) uint64 {
	var total uint64
	for _, pid := range GroupMembers(pgid) {
		total += statusBytes(pid, field)
	}
	return total
}

// statusBytes reads a kB field of /proc/PID/status, in bytes; 0 when absent.
func statusBytes(pid int, field string) uint64 {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && f[0] == field {
			if kb, err := strconv.ParseUint(f[1], 10, 64); err == nil {
				return kb * 1024
			}
			return 0
		}
	}
	return 0
}

// MemTotal returns the machine's memory in bytes (0 when unknown).
func MemTotal() uint64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "MemTotal:" {
			kb, err := strconv.ParseUint(fields[1], 10, 64)
			if err != nil {
				return 0
			}
			return kb * 1024
		}
	}
	return 0
}

// RSS returns the resident memory (VmRSS) of process pid in bytes; 0 when
// /proc cannot tell (e.g. it has exited).
func RSS(pid int) uint64 { return statusBytes(pid, "VmRSS:") }
