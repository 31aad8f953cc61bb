package main

import (
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/flipbench/flipbench/bench"
	"github.com/flipbench/flipbench/contract"
	"github.com/flipbench/flipbench/server/servertest"
)

// planOf parses args as bench's flags and returns their plan.
func planOf(t *testing.T, args ...string) (benchPlan, *benchFlags, error) {
	t.Helper()
	fs := newFlagSet("bench", "", io.Discard)
	f := addBenchFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	p, err := f.plan(setFlags(fs), io.Discard)
	return p, f, err
}

// The quick preset fills the flags not given; the flags given win.
func TestBenchQuickPreset(t *testing.T) {
	img := servertest.Photo(t)
	p, _, err := planOf(t, "-quick", "-image", img, "-levels", "7")
	if err != nil {
		t.Fatal(err)
	}
	runs, _ := bench.ParseRuns(bench.QuickRuns)
	if c := p.flip; !slices.Equal(c.Levels, []int{7}) || !slices.Equal(c.Clients, bench.QuickClients()) || c.Runs.String() != runs.String() || c.Image != img {
		t.Errorf("quick with -levels 7: levels %v, clients %v, runs %s, image %s", c.Levels, c.Clients, c.Runs, c.Image)
	}
	if _, f, err := planOf(t, "-quick"); *f.sf.image != contract.QuickImage || err == nil || !strings.Contains(err.Error(), "-image") {
		t.Errorf("quick without -image: image %s, err %v; want %s (not found from here)", *f.sf.image, err, contract.QuickImage)
	}
	p, _, err = planOf(t, "-quick", "-image", img, "-workload", "hello")
	if err != nil || p.hello.Step.String() != "1s" {
		t.Errorf("quick hello: step %s, err %v; want 1s", p.hello.Step, err)
	}
}

// -sweep runs a sweep's values after -modes, or after the baseline alone;
// -modes-file's errors are usage errors naming the flag.
func TestBenchSweepFlags(t *testing.T) {
	img := servertest.Photo(t)
	p, _, err := planOf(t, "-image", img, "-sweep", "shared-w")
	if want := []string{"standard", "shared-w1", "shared-w2", "shared-w3", "shared-w4"}; err != nil || !slices.Equal(p.flip.Modes, want) {
		t.Errorf("-sweep shared-w: modes %q, %v; want %q", p.flip.Modes, err, want)
	}
	p, _, err = planOf(t, "-image", img, "-modes", "threaded", "-sweep", "rr-w")
	if err != nil || len(p.flip.Modes) != 5 || p.flip.Modes[0] != "threaded" {
		t.Errorf("-modes threaded -sweep rr-w: modes %q, %v", p.flip.Modes, err)
	}
	if _, _, err := planOf(t, "-image", img, "-sweep", "shared"); err == nil || !strings.Contains(err.Error(), `-sweep: built-in modes.toml has no sweep "shared"`) {
		t.Errorf("-sweep shared: %v", err)
	}
	if _, _, err := planOf(t, "-image", img, "-modes-file", "testdata-none.toml"); err == nil || !strings.Contains(err.Error(), "-modes-file: modes file:") {
		t.Errorf("missing -modes-file: %v", err)
	}
}
