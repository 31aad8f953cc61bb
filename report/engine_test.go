package report

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/flipbench/flipbench/loadtest"
	"github.com/flipbench/flipbench/runfolder"
)

// enginesRun is a one-round run of bursts of 10 with S = 1 s measured on
// standard: standard and shared on Go's imaging, vips-shared on libvips
// (four times as fast a job, so its efficiency in standard's S is 400 %)
// and node-sharp-standard on sharp.
func enginesRun() *runfolder.Summary {
	const n, s = 10, time.Second
	mode := func(name, family, binary string, capacity int, job time.Duration, args ...string) runfolder.ModeRun {
		span := loadtest.IdealMakespan(n, capacity, job)
		return runfolder.ModeRun{Mode: name, Spec: runfolder.Spec{Name: name, Family: runfolder.Family(family), Binary: binary, Args: args},
			Trial: runfolder.Trial{Capacity: capacity, Levels: []loadtest.Metrics{{
				Level: n, Requests: n, Successes: n, Capacity: capacity,
				Makespan: loadtest.Duration(span), Throughput: n / span.Seconds(),
			}}}}
	}
	return &runfolder.Summary{Run: "engines", Levels: []int{n}, S: &runfolder.RunS{Mode: "standard", S: loadtest.Duration(s)},
		Modes: []runfolder.ModeRun{
			mode("standard", "go", "bin/standard", 1, s, "--procs=1"),
			mode("shared", "go", "bin/clustered", 2, s, "--workers=2", "--balance=shared"),
			mode("vips-shared", "go", "bin/clustered-vips", 2, s/4, "--workers=2", "--balance=shared", "--engine=vips"),
			mode("node-sharp-standard", "node", "/usr/bin/node", 4, s/2, "nodeapp/standard.js", "--engine=sharp"),
		}}
}

// idealMarkCount counts the ideal marks of a bar plot of gonum's SVG: each
// is a dark stroke on a white halo 4.5 points wide; the legend's thumbnail
// has one too.
func idealMarkCount(svg string) int {
	return len(regexp.MustCompile(`stroke:#FFFFFF;stroke-width:4\.5[^0-9]`).FindAllString(svg, -1))
}

func TestIdealsOnlyOnSEngine(t *testing.T) {
	sum := enginesRun()
	f := runfolder.FiguresOf(sum)
	for mode, want := range map[string]bool{"standard": true, "shared": true, "vips-shared": false, "node-sharp-standard": false, "gone": true} {
		if got := f.HasIdeal(mode); got != want {
			t.Errorf("HasIdeal(%s) = %v, want %v", mode, got, want)
		}
	}
	// A run without S counts each mode in its own warm-up job time: every
	// mode has its ideal.
	noS := enginesRun()
	noS.S = nil
	if !runfolder.FiguresOf(noS).HasIdeal("vips-shared") {
		t.Error("without a run S, vips-shared lost its ideal")
	}

	dir := t.TempDir()
	files, err := WritePlots(dir, sum)
	if err != nil {
		t.Fatal(err)
	}
	// One bar per mode and plot; marks on standard's and shared's only (in
	// latency-10, on each of their four statistics), plus the legend's.
	for _, tc := range []struct {
		file  string
		marks int
	}{{"speedup.svg", 2}, {"throughput.svg", 2}, {"latency-10.svg", 2 * 4}} {
		b, err := os.ReadFile(filepath.Join(dir, tc.file))
		if err != nil {
			t.Fatalf("%v (plots %q)", err, files)
		}
		svg := string(b)
		checkSVG(t, tc.file, svg)
		if got := idealMarkCount(svg) - 1; got != tc.marks {
			t.Errorf("%s has %d ideal marks, want %d (none on vips-shared and node-sharp-standard)", tc.file, got, tc.marks)
		}
		if !strings.Contains(svg, ">ideal (imaging modes only)<") {
			t.Errorf("%s's legend does not say which modes have an ideal", tc.file)
		}
	}
	// With every mode on imaging, every mode has its mark and the legend
	// says ideal.
	same := enginesRun()
	same.Modes = same.Modes[:2]
	if _, err := WritePlots(dir, same); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "speedup.svg"))
	if got := idealMarkCount(string(b)) - 1; got != 2 || !strings.Contains(string(b), ">ideal<") {
		t.Errorf("imaging modes only: %d ideal marks, want 2, and the legend's ideal", got)
	}
}

func TestEfficiencyOnlyOnSEngine(t *testing.T) {
	sum := enginesRun()
	md := RenderMarkdown(sum, []string{"speedup.svg"})
	for _, want := range []string{
		"| standard | 10 | 1 | 10/10 | 0s | 0s | 0s | 10s | 1.00 | 100% | 1× |", // figures table
		"| shared | 10 | 1 | 10/10 | 0s | 0s | 0s | 5s | 2.00 | 100% | 2.00× (untested, K = 1) |",
		"| vips-shared | 10 | 1 | 10/10 | 0s | 0s | 0s | 1.25s | 8.00 | – | 8.00× (untested, K = 1) |",
		"| node-sharp-standard | 10 | 1 | 10/10 | 0s | 0s | 0s | 1.5s | 6.67 | – | 6.67× (untested, K = 1) |",
		"| shared | 10 | 10 | 0s | 0s | 0s | 0s | 5s | 2.00 | 5s | 100% | 2.00× |", // detail: ideal, efficiency
		"| vips-shared | 10 | 10 | 0s | 0s | 0s | 0s | 1.25s | 8.00 | – | – | 8.00× |",
		"vips-shared, node-sharp-standard flip with another image library than standard's (imaging)",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("summary.md lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(md, "400%") || strings.Contains(md, "Efficiency above 100 %") {
		t.Errorf("summary.md prints vips-shared's efficiency in standard's S:\n%s", md)
	}
	_, plots, _ := strings.Cut(md, "## Plots")
	if !strings.Contains(plots, "no ideal mark in the plots") {
		t.Errorf("the plots' note does not say why some modes have no ideal:\n%s", plots)
	}
	// A run of imaging modes only has no such note.
	sum.Modes = sum.Modes[:2]
	if md := RenderMarkdown(sum, []string{"speedup.svg"}); strings.Contains(md, "another image library") {
		t.Errorf("a run of imaging modes says some flip with another library:\n%s", md)
	}
}
