package main

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flipbench/flipbench/regress"
	"github.com/flipbench/flipbench/runfolder"
	"github.com/flipbench/flipbench/server/servertest"
)

// TestServeRateSetByCores: a cluster short of workers reports capacity 1,
// yet its open-model step runs at the rate of the cores the gate asked
// for, so the fault overloads it rather than setting its own bar.
func TestServeRateSetByCores(t *testing.T) {
	t.Setenv("FAKESERVER_DELAY", "10ms")
	var log bytes.Buffer
	dir := filepath.Join(t.TempDir(), "run-1")
	plan := &runfolder.RatePlan{Loads: []float64{regress.DefaultRateLoad}, ArrivalsPerStep: 6, Arrivals: "constant", SLO: runfolder.SLO{TimesS: 5}}
	sum, err := serve(servertest.LinkBin(t), servertest.Photo(t), 2, &log)(context.Background(), regress.ServedRun{
		Dir: dir, Modes: []string{"shared"}, ModeArgs: map[string][]string{"shared": {"--workers=1"}}, Rate: plan, RateCapacity: 2,
	})
	if err != nil {
		t.Fatalf("serve: %v\nlog:\n%s", err, log.String())
	}
	m, _ := sum.Mode("shared")
	st, ok := m.Trial.Rate(regress.DefaultRateLoad)
	if !ok || m.Trial.Capacity != 1 {
		t.Fatalf("trial %+v: want a step at %g on a cluster of capacity 1\nlog:\n%s", m.Trial, regress.DefaultRateLoad, log.String())
	}
	want := regress.DefaultRateLoad * 2 / st.DriveS.D().Seconds()
	if got := st.Metrics.Schedule.Rate; math.Abs(got-want) > want*1e-3 {
		t.Errorf("step at %.3f/s, want %.3f/s: %g × 2 slots / S %s", got, want, regress.DefaultRateLoad, st.DriveS)
	}
	servertest.RequireFiles(t, filepath.Join(dir, "summary.json"))
}

// TestRunNewMetricPasses: the gate asked for a metric its baseline does not
// hold yet measures it, reports it new and passes.
func TestRunNewMetricPasses(t *testing.T) {
	t.Setenv("FAKESERVER_DELAY", "10ms")
	tmp := t.TempDir()
	base := filepath.Join(tmp, "baseline.json")
	old := regress.Baseline{Note: "before the open-model metric", Metrics: map[string]regress.Limit{
		regress.MetricStandardEff: {Baseline: 0.9, Tolerance: 0.3, Better: regress.Higher},
	}}
	if err := old.Save(base); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"-bin", servertest.LinkBin(t), "-image", servertest.Photo(t), "-cores", "2",
		"-baseline", base, "-out", filepath.Join(tmp, "out"), "-runs", "1", "-rate-arrivals", "8", "-only", regress.MetricClusterRateP99}, &stdout, &stderr)
	if code != exitPass {
		t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, exitPass, stdout.String(), stderr.String())
	}
	if !strings.Contains(stdout.String(), regress.New) {
		t.Errorf("stdout lacks %q:\n%s", regress.New, stdout.String())
	}
	data, err := os.ReadFile(filepath.Join(tmp, "out", "verdicts.json"))
	if err != nil {
		t.Fatal(err)
	}
	var verdicts []regress.Verdict
	if err := json.Unmarshal(data, &verdicts); err != nil {
		t.Fatal(err)
	}
	if len(verdicts) != 1 || verdicts[0].Metric != regress.MetricClusterRateP99 || verdicts[0].Verdict != regress.New || !(verdicts[0].Now > 0) {
		t.Errorf("verdicts %+v, want %s measured and %q", verdicts, regress.MetricClusterRateP99, regress.New)
	}
	if data, err := os.ReadFile(base); err != nil || strings.Contains(string(data), regress.MetricClusterRateP99) {
		t.Errorf("the baseline was rewritten (%v)", err)
	}
}

// TestWriteBaselineOnly: -write-baseline with -only adds the metric to the
// baseline there is, with its default tolerance and a note of its own, and
// leaves the others as they were; the gate then checks it.
func TestWriteBaselineOnly(t *testing.T) {
	t.Setenv("FAKESERVER_DELAY", "10ms")
	tmp := t.TempDir()
	base := filepath.Join(tmp, "baseline.json")
	kept := regress.Limit{Baseline: 0.9, Tolerance: 0.3, Better: regress.Higher, Samples: []float64{0.9}}
	old := regress.Baseline{Note: "the rest", Metrics: map[string]regress.Limit{regress.MetricStandardEff: kept}}
	if err := old.Save(base); err != nil {
		t.Fatal(err)
	}
	args := []string{"-bin", servertest.LinkBin(t), "-image", servertest.Photo(t), "-cores", "2",
		"-baseline", base, "-out", filepath.Join(tmp, "out"), "-runs", "1", "-rate-arrivals", "8", "-only", regress.MetricClusterRateP99}
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), append(args, "-write-baseline"), &stdout, &stderr); code != exitPass {
		t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, exitPass, stdout.String(), stderr.String())
	}
	b, err := regress.Load(base)
	if err != nil {
		t.Fatal(err)
	}
	l, ok := b.Metrics[regress.MetricClusterRateP99]
	if !ok || !(l.Baseline > 0) || len(l.Samples) != 1 || l.Tolerance == 0 || !strings.Contains(l.Note, "-only") {
		t.Errorf("the new metric in the baseline: %+v (present %v)", l, ok)
	}
	if got := b.Metrics[regress.MetricStandardEff]; b.Note != "the rest" || got.Baseline != kept.Baseline || got.Note != "" {
		t.Errorf("the rest changed: note %q, %s %+v", b.Note, regress.MetricStandardEff, got)
	}
	if !strings.Contains(stdout.String(), regress.MetricClusterRateP99) || strings.Contains(stdout.String(), regress.Missing) {
		t.Errorf("the check after the write should show the metric alone:\n%s", stdout.String())
	}
}
