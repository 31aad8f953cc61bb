package procfs

import (
	"os"
	"slices"
	"syscall"
	"testing"
)

func TestOwnGroup(t *testing.T) {
	pgid := syscall.Getpgrp()
	if !slices.Contains(GroupMembers(pgid), os.Getpid()) {
		t.Errorf("GroupMembers(%d) = %v lacks this process %d", pgid, GroupMembers(pgid), os.Getpid())
	}
	if rss, hwm := GroupRSS(pgid), GroupHWM(pgid); rss == 0 || hwm < rss/2 {
		t.Errorf("group RSS %d, HWM %d", rss, hwm)
	}
	if MemTotal() < 1<<20 {
		t.Errorf("MemTotal = %d", MemTotal())
	}
	if got := GroupMembers(1 << 30); len(got) != 0 {
		t.Errorf("a group that does not exist has members %v", got)
	}
}

func TestRSS(t *testing.T) {
	if RSS(os.Getpid()) == 0 {
		t.Error("RSS of this process is 0")
	}
	if got := RSS(-1); got != 0 {
		t.Errorf("RSS of no process = %d, want 0", got)
	}
}
