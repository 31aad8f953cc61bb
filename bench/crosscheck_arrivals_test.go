package bench

import (
	"bytes"
	"context"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flipbench/flipbench/internal/artillery"
	"github.com/flipbench/flipbench/runfolder"
	"github.com/flipbench/flipbench/server/servertest"
	"github.com/flipbench/flipbench/trial"
)

func TestCrossArrivalsValidate(t *testing.T) {
	for _, a := range []CrossArrivals{
		{Rate: -1, Duration: time.Second},
		{Rate: math.NaN(), Duration: time.Second},
		{Rate: 5, Duration: 1500 * time.Millisecond},
		{Rate: 5},
		{Rate: 0.5, Duration: time.Second},
	} {
		if err := a.Validate(); err == nil || strings.Contains(err.Error(), "\n") {
			t.Errorf("%+v: error %v, want one line", a, err)
		}
	}
	for _, a := range []CrossArrivals{{Duration: time.Second}, {Rate: 20, Duration: 30 * time.Second}, {Off: true, Rate: -1}} {
		if err := a.Validate(); err != nil {
			t.Errorf("%+v: %v", a, err)
		}
	}
}

// TestCrossCheckRateFromS leaves the rate to the run: 1.5/S on standard.
func TestCrossCheckRateFromS(t *testing.T) {
	t.Setenv("FAKESERVER_DELAY", "50ms")
	var log bytes.Buffer
	cfg := crossConfig(t, t.TempDir(), &log)
	cfg.Modes, cfg.Arrivals = []string{"shared"}, CrossArrivals{Duration: time.Second}
	cc, err := RunCrossCheck(context.Background(), cfg)
	if err != nil {
		t.Fatalf("crosscheck: %v\n%s", err, log.String())
	}
	a := cc.Arrivals
	if a == nil || a.S.D() < 50*time.Millisecond {
		t.Fatalf("arrivals %+v, want S of at least the fake server's 50ms", a)
	}
	if want := math.Round(ArrivalsLoad / a.S.D().Seconds()); a.Rate != want || !strings.Contains(a.RateFrom, "/S") {
		t.Errorf("rate %g (%s), want %g: 1.5/S of S %s", a.Rate, a.RateFrom, want, a.S)
	}
	if o := cc.Rows[0].Open; o == nil || o.Requests != int(a.Rate) {
		t.Errorf("open model %+v, want %g requests", o, a.Rate)
	}
	servertest.RequireFiles(t, filepath.Join(cfg.Out, runfolder.DirS, runfolder.FileServerLog))
}

// TestCrossCheckWithArtillery runs the real Artillery where make build
// installed it, at 5 arrivals/s for 2 s.
func TestCrossCheckWithArtillery(t *testing.T) {
	nodeApp, _ := filepath.Abs(filepath.Join("..", trial.DefaultNodeApp))
	if _, err := artillery.Check(nodeApp); err != nil {
		t.Skipf("Artillery cannot run here: %v", err)
	}
	t.Setenv("FAKESERVER_DELAY", "20ms")
	var log bytes.Buffer
	cfg := crossConfig(t, nodeApp, &log)
	cfg.Modes, cfg.Arrivals = []string{"standard"}, CrossArrivals{Rate: 5, Duration: 2 * time.Second}
	cc, err := RunCrossCheck(context.Background(), cfg)
	if err != nil {
		t.Fatalf("crosscheck: %v\n%s", err, log.String())
	}
	r := cc.Rows[0]
	if a := r.Artillery; a == nil || a.Requests != 10 || a.Answers != 10 || a.Unanswered() != 0 || a.P50 <= 0 {
		t.Fatalf("Artillery %+v (%s), want 10 of 10 answered\n%s", a, r.ArtillerySkipped, log.String())
	}
	if o := r.Open; o == nil || o.Requests != 10 || o.Answers != 10 {
		t.Fatalf("open model %+v, want 10 of 10 answered", o)
	}
	servertest.RequireFiles(t, filepath.Join(cfg.Out, "standard", "artillery", runfolder.FileArtillery))
}
