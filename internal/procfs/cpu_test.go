package procfs

import (
	"os"
	"runtime"
	"syscall"
	"testing"
	"time"
)

func TestCPU(t *testing.T) {
	c := ReadMachineCPU()
	if c.Total == 0 || c.Busy > c.Total {
		t.Fatalf("machine CPU %+v", c)
	}
	// Burn CPU until our own ticks show (a tick is 10 ms of CPU), for at most 5 s.
	x := 0
	for deadline := time.Now().Add(5 * time.Second); ProcessTicks(os.Getpid()) == 0 && time.Now().Before(deadline); {
		for i := range 1_000_000 {
			x ^= i * i
		}
	}
	runtime.KeepAlive(x)
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
