package bench

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flipbench/flipbench/internal/artillery"
	"github.com/flipbench/flipbench/server/servertest"
	"github.com/flipbench/flipbench/trial"
)

func crossConfig(t *testing.T, nodeApp string, log *bytes.Buffer) CrossConfig {
	return CrossConfig{
		Settings: trial.Settings{BinDir: servertest.LinkBin(t), NodeApp: nodeApp, Image: servertest.Photo(t), Out: t.TempDir(),
			Warmups: 1, Cores: 2, StartTimeout: 20 * time.Second, StopTimeout: 5 * time.Second, Log: log},
		Modes: []string{"standard", "clustered", "node-standard"}, Clients: 3, Duration: time.Second,
		Arrivals: CrossArrivals{Rate: 5, Duration: time.Second},
	}
}

func TestCrossCheckWithoutAutocannon(t *testing.T) {
	t.Setenv("FAKESERVER_DELAY", "20ms")
	var log bytes.Buffer
	cfg := crossConfig(t, t.TempDir(), &log)
	// The script without its module: Artillery is not installed.
	if err := os.WriteFile(filepath.Join(cfg.NodeApp, artillery.Script), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	cc, err := RunCrossCheck(context.Background(), cfg)
	if err != nil {
		t.Fatalf("crosscheck: %v\n%s", err, log.String())
	}
	if n := strings.Count(log.String(), "autocannon: skipped in every mode"); n != 1 {
		t.Errorf("want one line saying autocannon is skipped, got %d:\n%s", n, log.String())
	}
	if len(cc.Rows) != 3 || cc.Rows[2].Skipped == "" {
		t.Fatalf("rows %+v, want node-standard skipped (no Node app)", cc.Rows)
	}
	for _, r := range cc.Rows[:2] {
		if r.Autocannon != nil || r.Flipbench == nil || len(r.Problems) > 0 {
			t.Fatalf("%s: %+v, want flipbench's figures alone and no problems", r.Mode, r)
		}
		if f := r.Flipbench; f.Answers == 0 || f.NeverAnswered != 0 || len(f.PerClient) != 3 {
			t.Errorf("%s: flipbench %+v, want every one of 3 clients answered", r.Mode, f)
		}
	}
	servertest.RequireFiles(t, filepath.Join(cfg.Out, "crosscheck.json"), filepath.Join(cfg.Out, "standard", "keepalive-3.bin"))
	if n := strings.Count(log.String(), "artillery: skipped in every mode (the open model runs alone): "+artillery.ErrNotInstalled.Error()); n != 1 {
		t.Errorf("want one line saying Artillery is skipped, got %d:\n%s", n, log.String())
	}
	if a := cc.Arrivals; a == nil || a.Rate != 5 || a.S <= 0 {
		t.Fatalf("arrivals %+v, want the rate given and S measured", a)
	}
	for _, r := range cc.Rows[:2] {
		if r.Artillery != nil || r.ArtillerySkipped == "" {
			t.Errorf("%s: Artillery %+v (%q), want it skipped with its reason", r.Mode, r.Artillery, r.ArtillerySkipped)
		}
		if o := r.Open; o == nil || o.Requests != 5 || o.Answers != 5 || o.Throughput != 5 || o.P50 <= 0 || o.IdealP99 <= 0 {
			t.Errorf("%s: open model %+v, want 5 of 5 answered at 5/s beside an ideal", r.Mode, o)
		}
	}
	servertest.RequireFiles(t, filepath.Join(cfg.Out, "standard", "open", "open-constant-5-for-1s.bin"))
}

// TestCrossCheckWithAutocannon runs the real autocannon where make build
// installed it.
func TestCrossCheckWithAutocannon(t *testing.T) {
	nodeApp, _ := filepath.Abs(filepath.Join("..", trial.DefaultNodeApp))
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node is not on the PATH")
	}
	if _, err := os.Stat(filepath.Join(nodeApp, "node_modules", "autocannon")); err != nil {
		t.Skip("autocannon is not installed (make build)")
	}
	t.Setenv("FAKESERVER_DELAY", "20ms")
	var log bytes.Buffer
	cfg := crossConfig(t, nodeApp, &log)
	cfg.Modes = []string{"clustered"}
	cc, err := RunCrossCheck(context.Background(), cfg)
	if err != nil {
		t.Fatalf("crosscheck: %v\n%s", err, log.String())
	}
	r := cc.Rows[0]
	if r.Autocannon == nil {
		t.Fatalf("autocannon did not run: %s\n%s", r.AutocannonSkipped, log.String())
	}
	if a := r.Autocannon; a.Answers == 0 || a.NeverAnswered != 0 || len(a.PerClient) != 3 || a.Version == "" {
		t.Errorf("autocannon %+v, want every one of 3 connections answered", a)
	}
}
