package procfs

import (
	"os"
	"syscall"
	"testing"
)

func TestCPU(t *testing.T) {
	c := ReadMachineCPU()
	if c.Total == 0 || c.Busy > c.Total {
		t.Fatalf("machine CPU %+v", c)
	}
	// Burn a little CPU so our own ticks show.
	x := 0
	for i := range 50_000_000 {
		x += i
	}
	_ = x
	if ProcessTicks(os.Getpid()) == 0 {
		t.Error("no CPU ticks for this process")
	}
	if GroupTicks(syscall.Getpgrp()) == 0 {
		t.Error("no CPU ticks for this process group")
	}
	if Load1() < 0 {
		t.Error("negative load")
	}
}
