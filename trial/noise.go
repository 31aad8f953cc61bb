package trial

import (
	"os"
	"time"

	"github.com/flipbench/flipbench/internal/procfs"
	"github.com/flipbench/flipbench/runfolder"
)

// noiseMeter measures what else the machine does while a trial runs: the
// busy CPU time that neither this process nor the trial's server spent, and
// the time the hypervisor stole. Another engineer's build on a shared
// machine moves a figure as much as a real change does.
type noiseMeter struct {
	start time.Time
	cpu   procfs.MachineCPU
	own   uint64
	pgid  int
}

// startNoise starts measuring around the server of process group pgid.
func startNoise(pgid int) noiseMeter {
	return noiseMeter{start: time.Now(), cpu: procfs.ReadMachineCPU(), own: ownTicks(pgid), pgid: pgid}
}

// ownTicks is the CPU time of this process and the server's live processes.
func ownTicks(pgid int) uint64 {
	return procfs.ProcessTicks(os.Getpid()) + procfs.GroupTicks(pgid)
}

// end returns the noise since start; nil when /proc could not tell.
func (m noiseMeter) end() *runfolder.Noise {
	cpu := procfs.ReadMachineCPU()
	secs := time.Since(m.start).Seconds()
	total := cpu.Total - m.cpu.Total
	if m.cpu.Total == 0 || total == 0 || secs <= 0 {
		return nil
	}
	busy := float64(cpu.Busy - m.cpu.Busy)
	own := float64(ownTicks(m.pgid)) - float64(m.own)
	other := max(busy-own, 0) / procfs.TicksPerSecond / secs
	return &runfolder.Noise{
		OtherCores: other,
		Steal:      float64(cpu.Steal-m.cpu.Steal) / float64(total),
		Load1:      procfs.Load1(),
	}
}
