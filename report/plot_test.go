package report

import (
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/flipbench/flipbench/loadtest"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
)

func TestWritePlots(t *testing.T) {
	out, sum := fakeRun(t, "standard", "clustered")
	// clustered lost its burst of 4: answers-4 shows standard alone.
	if err := os.Remove(filepath.Join(out, "clustered", loadtest.BurstName(4)+loadtest.SuffixResults)); err != nil {
		t.Fatal(err)
	}
	files, err := WritePlots(out, sum)
	if err != nil {
		t.Fatalf("WritePlots: %v", err)
	}
	want := []string{"latency-4.svg", "answers-4.svg", "latency-10.svg", "answers-10.svg", "throughput.svg", "speedup.svg", "keepalive.svg"}
	if !slices.Equal(files, want) {
		t.Errorf("WritePlots returned %q, want %q", files, want)
	}
	svg := map[string]string{}
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(out, f))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), "<svg") || !strings.HasSuffix(strings.TrimSpace(string(b)), "</svg>") {
			t.Errorf("%s is not an SVG: %.80q", f, b)
		}
		svg[f] = string(b)
	}
	// Legend entries are the only texts with a mode's bare name.
	for f, modes := range map[string][]string{"answers-4.svg": {"standard"}, "answers-10.svg": {"standard", "clustered"}} {
		for _, m := range []string{"standard", "clustered"} {
			if got := strings.Contains(svg[f], ">"+m+"<"); got != slices.Contains(modes, m) {
				t.Errorf("%s shows %s: %v, want %v", f, m, got, !got)
			}
		}
		if !strings.Contains(svg[f], ">ideal FIFO<") {
			t.Errorf("%s lacks the ideal", f)
		}
	}

	if _, err := Write(out, sum); err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile(filepath.Join(out, "summary.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range want {
		if link := "](" + f + ")"; !strings.Contains(string(md), link) {
			t.Errorf("summary.md does not link %s", f)
		}
	}

	// With no mode's results for 4 left there is no answers-4, and no error.
	if err := os.Remove(filepath.Join(out, "standard", loadtest.BurstName(4)+loadtest.SuffixResults)); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(out, "answers-4.svg")); err != nil {
		t.Fatal(err)
	}
	files, err = WritePlots(out, sum)
	if err != nil {
		t.Fatalf("WritePlots without any burst-4.bin: %v", err)
	}
	if slices.Contains(files, "answers-4.svg") || !slices.Contains(files, "answers-10.svg") {
		t.Errorf("WritePlots without any burst-4.bin returned %q", files)
	}
	if _, err := os.Stat(filepath.Join(out, "answers-4.svg")); err == nil {
		t.Error("answers-4.svg written without any burst-4.bin")
	}
}

func TestIdealStaircase(t *testing.T) {
	// Capacity 2, S 3 s: answers come back two at a time, every 3 s.
	got := idealStaircase(5, 2, 3*time.Second)
	want := plotter.XYs{{X: 1, Y: 3}, {X: 2, Y: 3}, {X: 3, Y: 6}, {X: 4, Y: 6}, {X: 5, Y: 9}}
	if !slices.Equal(got, want) {
		t.Errorf("idealStaircase(5, 2, 3s) = %v, want %v", got, want)
	}
	if got := idealStaircase(3, 1, 500*time.Millisecond); !slices.Equal(got, plotter.XYs{{X: 1, Y: 0.5}, {X: 2, Y: 1}, {X: 3, Y: 1.5}}) {
		t.Errorf("idealStaircase(3, 1, 0.5s) = %v", got)
	}
}

func TestAnswerLatencies(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	ok := func(sent, lat time.Duration) vegeta.Result {
		return vegeta.Result{Code: http.StatusOK, Timestamp: t0.Add(sent), Latency: lat}
	}
	rs := vegeta.Results{
		ok(0, 3*time.Second),
		ok(time.Second, time.Second), // sent late: answered 2 s after the burst began
		{Code: http.StatusServiceUnavailable, Timestamp: t0, Latency: time.Millisecond, Error: "503 Service Unavailable"},
		ok(0, 4*time.Second),
	}
	want := plotter.XYs{{X: 1, Y: 2}, {X: 2, Y: 3}, {X: 3, Y: 4}}
	if got := answerLatencies(rs); !slices.Equal(got, want) {
		t.Errorf("answerLatencies = %v, want %v (failures left out, in answer order)", got, want)
	}
}

func TestNiceTicks(t *testing.T) {
	for _, tc := range []struct {
		lo, hi float64
		want   []string
	}{
		{0, 2.2, []string{"0", "0.5", "1", "1.5", "2"}},
		{0, 1150, []string{"0", "200", "400", "600", "800", "1000"}},
		{0, 0.3, []string{"0", "0.05", "0.1", "0.15", "0.2", "0.25", "0.3"}},
		{0, 36, []string{"0", "5", "10", "15", "20", "25", "30", "35"}},
	} {
		var labels []string
		for _, tk := range (niceTicks{}).Ticks(tc.lo, tc.hi) {
			if tk.Label != "" {
				labels = append(labels, tk.Label)
			}
		}
		if !slices.Equal(labels, tc.want) {
			t.Errorf("ticks of [%g, %g] = %q, want %q", tc.lo, tc.hi, labels, tc.want)
		}
	}
}

// TestSavePlotTitleStaysOnTheCanvas: a title wider than the column a wide
// legend leaves starts on the canvas, not left of it, and the plot keeps
// its title for whoever draws it again.
func TestSavePlotTitleStaysOnTheCanvas(t *testing.T) {
	title := strings.Repeat("a title wider than the plot column ", 2)
	p := NewPlot(title, "x", "y")
	leg := plot.NewLegend()
	l, err := plotter.NewLine(plotter.XYs{{X: 0, Y: 1}, {X: 1, Y: 2}})
	if err != nil {
		t.Fatal(err)
	}
	p.Add(l)
	leg.Add(strings.Repeat("a very wide legend entry ", 3), l)
	path := filepath.Join(t.TempDir(), "p.svg")
	if err := SavePlot(path, p, leg); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`<text x="([-0-9.]+)"`).FindSubmatch(data)
	if m == nil || strings.HasPrefix(string(m[1]), "-") {
		t.Errorf("the title's first text starts at x=%s, want on the canvas", m)
	}
	if !strings.Contains(string(data), strings.TrimSpace(title)) || p.Title.Text != title {
		t.Errorf("the title was not drawn, or the plot lost it (%q)", p.Title.Text)
	}
}
