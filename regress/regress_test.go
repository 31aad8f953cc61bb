package regress

import (
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func testBaseline() Baseline {
	return Baseline{Metrics: map[string]Limit{
		"efficiency": {Baseline: 0.8, Tolerance: 0.25, Better: Higher},
		"bytes":      {Baseline: 1000, Tolerance: 0.10, Better: Lower},
	}}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name   string
		now    map[string]float64
		want   map[string]string
		wantOK bool
	}{
		{"same", map[string]float64{"efficiency": 0.8, "bytes": 1000}, map[string]string{"efficiency": Pass, "bytes": Pass}, true},
		{"within tolerance", map[string]float64{"efficiency": 0.61, "bytes": 1099}, map[string]string{"efficiency": Pass, "bytes": Pass}, true},
		{"higher-is-better falls", map[string]float64{"efficiency": 0.59, "bytes": 1000}, map[string]string{"efficiency": Regressed, "bytes": Pass}, false},
		{"lower-is-better grows", map[string]float64{"efficiency": 0.8, "bytes": 1101}, map[string]string{"efficiency": Pass, "bytes": Regressed}, false},
		{"improvements", map[string]float64{"efficiency": 1.01, "bytes": 800}, map[string]string{"efficiency": Improved, "bytes": Improved}, true},
		{"missing", map[string]float64{"efficiency": 0.8}, map[string]string{"efficiency": Pass, "bytes": Missing}, false},
		{"NaN is missing", map[string]float64{"efficiency": math.NaN(), "bytes": 1000}, map[string]string{"efficiency": Missing, "bytes": Pass}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			verdicts, ok := Check(testBaseline(), tt.now, nil)
			if ok != tt.wantOK {
				t.Errorf("ok: got %v, want %v", ok, tt.wantOK)
			}
			if len(verdicts) != len(tt.want) {
				t.Fatalf("got %d verdicts, want %d", len(verdicts), len(tt.want))
			}
			for _, v := range verdicts {
				if got, want := v.Verdict, tt.want[v.Metric]; got != want {
					t.Errorf("%s: got %s, want %s (now %v)", v.Metric, got, want, v.Now)
				}
			}
		})
	}
}

func TestRender(t *testing.T) {
	verdicts, _ := Check(testBaseline(), map[string]float64{"efficiency": 0.4, "bytes": 1000}, nil)
	var b strings.Builder
	if err := Render(&b, verdicts); err != nil {
		t.Fatal(err)
	}
	got := b.String()
	for _, want := range []string{"metric", "baseline", "efficiency", "0.8", "0.4", "-50.0%", "25%", "REGRESSED", "bytes", "ok"} {
		if !strings.Contains(got, want) {
			t.Errorf("table lacks %q:\n%s", want, got)
		}
	}
}

func TestBaselineRoundTripAndValidation(t *testing.T) {
	path := filepath.Join(t.TempDir(), "baseline.json")
	if err := testBaseline().Save(path); err != nil {
		t.Fatal(err)
	}
	got, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Metrics["bytes"], testBaseline().Metrics["bytes"]) {
		t.Errorf("round trip: got %+v", got.Metrics["bytes"])
	}
	bad := []string{
		`{`,
		`{"metrics": {}}`,
		`{"metrics": {"x": {"baseline": 1, "tolerance": 0.1, "better": "sideways"}}}`,
		`{"metrics": {"x": {"baseline": 1, "tolerance": 1.5, "better": "higher"}}}`,
		`{"metrics": {"x": {"baseline": 0, "tolerance": 0.1, "better": "higher"}}}`,
	}
	for _, text := range bad {
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := Load(path); err == nil {
			t.Errorf("Load accepted %s", text)
		}
	}
	if _, err := Load(filepath.Join(t.TempDir(), "none.json")); err == nil {
		t.Error("Load accepted a missing file")
	}
}

const goTestOutput = `goos: linux
goarch: amd64
pkg: github.com/flipbench/flipbench/job
cpu: Some CPU
BenchmarkJob/photo-1mp-2         	      15	  72137783 ns/op	 5552096 B/op	      46 allocs/op
BenchmarkJob/photo-1mp-2         	      16	  69808001 ns/op	 5551940 B/op	      45 allocs/op
BenchmarkJob/photo-6.7mb-2       	       1	1063939706 ns/op	98593032 B/op	      45 allocs/op
BenchmarkJob/photo-1mp           	      14	  72877233 ns/op	 5551752 B/op	      45 allocs/op
PASS
ok  	github.com/flipbench/flipbench/job	6.435s
`

func TestBenchValues(t *testing.T) {
	got, err := BenchValues(strings.NewReader(goTestOutput), JobBenchmark, "B/op")
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{5552096, 5551940, 5551752}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("value %d: got %v, want %v", i, got[i], want[i])
		}
	}
	if _, err := BenchValues(strings.NewReader(goTestOutput), "BenchmarkNope", "B/op"); err == nil {
		t.Error("want an error for a benchmark that is not there")
	}
	if _, err := BenchValues(strings.NewReader(goTestOutput), JobBenchmark, "widgets/op"); err == nil {
		t.Error("want an error for a unit that is not there")
	}
}

// TestCheckNeedsSignificance: a move beyond the tolerance regresses only
// when the samples show it is no drift of the machine; with samples too
// few to test, the tolerance alone decides, as before samples were kept.
func TestCheckNeedsSignificance(t *testing.T) {
	b := Baseline{Metrics: map[string]Limit{"eff": {Baseline: 1, Tolerance: 0.1, Better: Higher,
		Samples: []float64{0.7, 0.9, 1, 1.1, 1.3}}}}
	noisy := []float64{0.6, 0.8, 0.85, 0.95, 1.2} // median 0.85: beyond 10 %, but the same spread
	if vs, ok := Check(b, map[string]float64{"eff": 0.85}, map[string][]float64{"eff": noisy}); !ok || !vs[0].Tested || vs[0].P <= 0.05 {
		t.Errorf("noise called a regression: %+v", vs)
	}
	worse := []float64{0.5, 0.52, 0.55, 0.53, 0.51}
	if vs, ok := Check(b, map[string]float64{"eff": 0.52}, map[string][]float64{"eff": worse}); ok || vs[0].Verdict != Regressed {
		t.Errorf("a significant fall passed: %+v", vs)
	}
	if vs, ok := Check(b, map[string]float64{"eff": 0.85}, map[string][]float64{"eff": {0.85}}); ok || vs[0].Tested {
		t.Errorf("one sample: %+v, want untested and the tolerance to decide", vs)
	}
}

func TestBaselineOnly(t *testing.T) {
	b := Baseline{Note: "n", Metrics: map[string]Limit{"a": {Baseline: 1}, "b": {Baseline: 2}}}
	got := b.Only([]string{"b"})
	if len(got.Metrics) != 1 || got.Metrics["b"].Baseline != 2 || got.Note != "n" {
		t.Errorf("Only(b) = %+v", got)
	}
	if all := b.Only(nil); len(all.Metrics) != 2 {
		t.Errorf("Only(nil) = %+v, want every metric", all)
	}
	if got := b.Only([]string{"b", "c"}); len(got.Metrics) != 1 {
		t.Errorf("Only(b, c) = %+v, want b alone: c is newer than the baseline", got)
	}
}

// TestBaselineWith: the named metrics are remeasured (a new one with its
// default tolerance), the rest kept; an unmeasured or unknown one is an
// error, and the baseline it was called on is not changed.
func TestBaselineWith(t *testing.T) {
	b := Baseline{Note: "n", Metrics: map[string]Limit{
		MetricStandardEff:    {Baseline: 0.9, Tolerance: 0.1, Better: Higher},
		MetricClusterSpeedup: {Baseline: 0.8, Tolerance: 0.2, Better: Higher},
	}}
	now := map[string]float64{MetricStandardEff: 0.95, MetricClusterRateP99: 1.04}
	samples := map[string][]float64{MetricStandardEff: {0.95}, MetricClusterRateP99: {1.02, 1.04, 1.05}}
	got, err := b.With([]string{MetricStandardEff, MetricClusterRateP99}, now, samples, "alone")
	if err != nil {
		t.Fatal(err)
	}
	if l := got.Metrics[MetricStandardEff]; l.Baseline != 0.95 || l.Tolerance != 0.1 || l.Note != "alone" {
		t.Errorf("remeasured %+v, want 0.95 with its own tolerance 0.1", l)
	}
	if l := got.Metrics[MetricClusterRateP99]; l.Baseline != 1.04 || l.Tolerance != defaultLimits()[MetricClusterRateP99].Tolerance || len(l.Samples) != 3 {
		t.Errorf("added %+v, want 1.04 with the default tolerance", l)
	}
	if l := got.Metrics[MetricClusterSpeedup]; l.Baseline != 0.8 || l.Note != "" || got.Note != "n" {
		t.Errorf("kept %+v (note %q), want as it was", l, got.Note)
	}
	if b.Metrics[MetricStandardEff].Baseline != 0.9 || len(b.Metrics) != 2 {
		t.Errorf("With changed the baseline it was called on: %+v", b.Metrics)
	}
	if _, err := b.With([]string{MetricClusterSpeedup}, now, samples, ""); err == nil {
		t.Error("a metric not measured made a baseline")
	}
	if _, err := b.With([]string{"nope"}, map[string]float64{"nope": 1}, nil, ""); err == nil {
		t.Error("a metric the gate does not know made a baseline")
	}
}
