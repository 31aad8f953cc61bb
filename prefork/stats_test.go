package prefork

import (
	"context"
	"reflect"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/flipbench/flipbench/internal/testproc"
	"github.com/flipbench/flipbench/prefork/jobstats"
)

func TestStatsLine(t *testing.T) {
	want := jobstats.Stats{Done: 7, Failed: 2, InFlight: 1, Queued: 3,
		Series: []jobstats.Series{{Name: "h", Labels: []string{"/flip", "200"}, Count: 3, Sum: 1.5, Buckets: []uint64{1, 3}}}}
	line := statsLine(want)
	if len(line) <= len(statusStats) || line[:len(statusStats)] != statusStats {
		t.Fatalf("line %q lacks the %q prefix", line, statusStats)
	}
	got, err := parseStats(line[len(statusStats):])
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("parseStats(%q) = %+v, %v; want %+v", line, got, err, want)
	}
	if _, err := parseStats("{not json"); err == nil {
		t.Error("parseStats took a broken line")
	}
}

// TestWorkersView checks Master.Workers: every worker with its own stats
// (testApp reports its pid as its done count), and a restart after a crash.
func TestWorkersView(t *testing.T) {
	c := startCluster(t, BalanceShared, 2)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var infos []WorkerInfo
	testproc.WaitFor(t, 10*time.Second, "both workers' stats", func() bool {
		var err error
		if infos, err = c.m.Workers(ctx); err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, w := range infos {
			if w.State == "ready" && !w.StatsAt.IsZero() && w.Stats.Done == int64(w.PID) {
				n++
			}
		}
		return n == 2
	})
	if infos[0].Index != 0 || infos[1].Index != 1 {
		t.Errorf("indexes %d, %d; want 0, 1", infos[0].Index, infos[1].Index)
	}
	victim := infos[1]
	if err := syscall.Kill(victim.PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	testproc.WaitFor(t, 10*time.Second, "the replacement with a restart", func() bool {
		infos, _ = c.m.Workers(ctx)
		return slices.ContainsFunc(infos, func(w WorkerInfo) bool {
			return w.Index == victim.Index && w.PID != victim.PID && w.Restarts == 1 && w.State == "ready"
		})
	})
	if err := c.stop(t); err != nil {
		t.Fatal(err)
	}
	if infos, err := c.m.Workers(ctx); err != nil || infos != nil {
		t.Errorf("Workers after Run returned %v, %v; want nothing", infos, err)
	}
}
