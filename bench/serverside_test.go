package bench

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/flipbench/flipbench/internal/promhist"
	"github.com/flipbench/flipbench/internal/testproc"
	"github.com/flipbench/flipbench/loadtest"
	"github.com/flipbench/flipbench/runfolder"
	"github.com/flipbench/flipbench/server/servertest"
)

// burstOf6 is the burst the server-side tests fire.
const burstOf6 = 6

// checkServerSide fails t unless mode's burst of 6 has a server-side
// count of 6 and a server p99 at most one bucket above the client's.
func checkServerSide(t *testing.T, sum *runfolder.Summary, mode string) {
	t.Helper()
	i := slices.IndexFunc(sum.Modes, func(m runfolder.ModeRun) bool { return m.Mode == mode })
	if i < 0 {
		t.Fatalf("%s did not run", mode)
	}
	m, ok := sum.Modes[i].Level(burstOf6)
	if !ok || m.Server == nil {
		t.Fatalf("%s n=%d: no server-side latency (level found %v)", mode, burstOf6, ok)
	}
	if m.Server.Count != burstOf6 {
		t.Errorf("%s: server counted %d requests, want %d", mode, m.Server.Count, burstOf6)
	}
	h := promhist.Histogram{Bounds: m.Server.Bounds}
	client, server := h.BucketOf(m.Latency.P99.D().Seconds()), h.BucketOf(m.Server.P99.D().Seconds())
	if m.Server.P99 <= 0 || server > client+1 {
		t.Errorf("%s: server p99 %s (bucket %d) is more than one bucket above the client's %s (bucket %d)",
			mode, m.Server.P99, server, m.Latency.P99, client)
	}
}

// runBurstOf6 runs modes in bin for one burst of 6 into a new folder,
// with set (if not nil) changing the test settings, and returns the run,
// its folder and its log.
func runBurstOf6(t *testing.T, bin string, modes []string, set func(*Config)) (*runfolder.Summary, string, *bytes.Buffer) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "run")
	var log bytes.Buffer
	cfg := testConfig(t, bin, out, &log)
	cfg.Modes, cfg.Levels = modes, []int{burstOf6}
	if set != nil {
		set(&cfg)
	}
	sum, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatalf("bench: %v\nlog:\n%s", err, log.String())
	}
	return sum, out, &log
}

func TestRunReadsServerSideLatency(t *testing.T) {
	modes := []string{"standard", "shared"}
	sum, out, log := runBurstOf6(t, servertest.LinkBin(t), modes, nil)
	for _, mode := range modes {
		checkServerSide(t, sum, mode)
	}
	// The cluster's histograms came from its admin address, behind a token
	// that does not outlive the trial.
	var shared runfolder.ModeRun
	if err := loadtest.ReadJSON(filepath.Join(out, "shared", runfolder.FileMode), &shared); err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(shared.Spec.Args, isAdminArg) {
		t.Errorf("shared ran without an admin address: %v", shared.Spec.Args)
	}
	if l, ok := shared.Level(burstOf6); !ok || l.Server == nil || l.Server.Count != burstOf6 {
		t.Errorf("mode.json has no server-side count of %d: %+v", burstOf6, l.Server)
	}
	if _, err := os.Stat(filepath.Join(out, "shared", adminTokenFile)); !os.IsNotExist(err) {
		t.Errorf("the admin token file stayed in the run folder (%v)", err)
	}
	if !strings.Contains(log.String(), "p99 client") {
		t.Errorf("the level's log line has no client/server p99:\n%s", log.String())
	}
}

func TestRunWithoutServerMetrics(t *testing.T) {
	sum, _, _ := runBurstOf6(t, servertest.LinkBin(t), []string{"standard", "shared"}, func(c *Config) {
		c.ServerEnv = append(c.ServerEnv, "FAKESERVER_NO_METRICS=1")
	})
	for _, m := range sum.Modes {
		l, ok := m.Level(burstOf6)
		if !ok || l.Server != nil || len(m.Problems) > 0 {
			t.Errorf("%s: level found %v, server side %+v, problems %v; want no server side and no problem", m.Mode, ok, l.Server, m.Problems)
		}
	}
}

func TestRunReadsRealStandardsHistogram(t *testing.T) {
	bin, cleanup, err := testproc.Build(filepath.Join("..", "cmd", "standard"), "standard")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cleanup)
	sum, _, _ := runBurstOf6(t, filepath.Dir(bin), []string{"standard"}, func(c *Config) {
		c.Image, c.ServerEnv = filepath.Join("..", "testdata", "photo-1mp.jpg"), nil
	})
	checkServerSide(t, sum, "standard")
}
