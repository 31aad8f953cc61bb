package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flipbench/flipbench/loadtest"
	"github.com/flipbench/flipbench/runfolder"
	"github.com/flipbench/flipbench/server/servertest"
)

// TestBenchModesFile benches a server that knows nothing of flipbench (no
// /healthz, no address file: this test binary listening on {addr}) from a
// modes file, swept over a placeholder, with the first value as baseline.
func TestBenchModesFile(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "modes.toml")
	if err := os.WriteFile(file, []byte(`baseline = "app-c1"
[modes.app]
command = ["`+exe+`", "{addr}", "{c}"]
env = ["`+servertest.EnvForeign+`=serve"]
ready = "tcp"
capacity = "{c}"
request = {path = "/work"}
sweep = {c = [1, 2]}
sweep_name = "app-c{c}"
default = true
`), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "run")
	code, stdout, stderr := runCLI(t, "bench", "-modes-file", file, "-image", servertest.Photo(t), "-out", out,
		"-levels", "2", "-clients", "none", "-warmups", "1", "-progress", "off", "-runs", "1")
	if code != exitOK {
		t.Fatalf("bench: exit %d\n%s", code, stderr)
	}
	for _, want := range []string{"app-c1 n=2: 2/2 ok", "app-c2 n=2: 2/2 ok", "app-c2: stopped cleanly"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("bench log lacks %q:\n%s", want, stderr)
		}
	}
	var sum runfolder.Summary
	if err := loadtest.ReadJSON(filepath.Join(out, runfolder.FileSummaryJSON), &sum); err != nil {
		t.Fatal(err)
	}
	if sum.Baseline != "app-c1" || sum.S == nil || sum.S.Mode != "app-c1" || len(sum.Modes) != 2 {
		t.Errorf("summary: baseline %q, S %+v, %d modes\n%s", sum.Baseline, sum.S, len(sum.Modes), stdout)
	}
	if !strings.Contains(stdout, "### app over {c}") || !strings.Contains(stdout, "| 2 | 2 | app-c2 |") ||
		!strings.Contains(stdout, "at N = 2 the most throughput was c = ") {
		t.Errorf("summary lacks the sweep:\n%s", stdout)
	}
	servertest.RequireFiles(t, filepath.Join(out, "sweep-app.svg"), filepath.Join(out, "sweep-app-speedup.svg"))
	if m, ok := sum.Mode("app-c2"); !ok || m.Spec.Capacity != 2 || m.Spec.Sweep == nil || m.Spec.Sweep.Value != 2 {
		t.Errorf("app-c2: %+v", m.Spec)
	}

	code, _, stderr = runCLI(t, "bench", "-modes-file", filepath.Join(dir, "none.toml"), "-out", out)
	if code == exitOK || !strings.Contains(stderr, "-modes-file: modes file: open") {
		t.Errorf("missing modes file: exit %d\n%s", code, stderr)
	}
}
