package report

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flipbench/flipbench/loadtest"
	"github.com/flipbench/flipbench/runfolder"
)

func TestServerSideTable(t *testing.T) {
	level := func(client, server time.Duration) loadtest.Metrics {
		m := loadtest.Metrics{Level: 100, Latency: loadtest.Dist{P99: loadtest.Duration(client)}}
		if server > 0 {
			m.Server = &loadtest.ServerSide{Count: 100, P99: loadtest.Duration(server), Bounds: []float64{1.25, 2.5, 5, 10, 20}}
		}
		return m
	}
	trial := func(r int, m loadtest.Metrics) runfolder.Trial {
		return runfolder.Trial{Round: r, Levels: []loadtest.Metrics{m}}
	}
	sum := &runfolder.Summary{Run: "x", Levels: []int{100}, Modes: []runfolder.ModeRun{
		// standard's p99s share a bucket: nothing is surely unseen, and
		// the interpolation may put the server's above the client's.
		{Mode: "standard", Trial: trial(1, level(12*time.Second, 19*time.Second))},
		// The gated cluster keeps its waiting connections in the kernel:
		// the median over rounds of the server's p99 is far below the client's.
		{Mode: "shared", Trial: trial(1, level(10*time.Second, 2*time.Second)),
			Rounds: []runfolder.Trial{trial(2, level(12*time.Second, 3*time.Second)), trial(3, level(11*time.Second, 4*time.Second))}},
		{Mode: "node-standard", Trial: trial(1, level(30*time.Second, 0))},
	}}
	md := RenderMarkdown(sum, nil)
	for _, want := range []string{
		"### What the server sees",
		"| standard | 100 | 12s | 19s | −7s | 0s | 0% | 100 | 1 |",
		// Unseen, at least, by round: 10−2.5, 12−5, 11−5; the median is 7 s.
		"| shared | 100 | 11s | 3s | 8s | 7s | 64% | 100 | 3 |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("summary lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(md, "| node-standard | 100 | 30s") {
		t.Errorf("a server without histograms has a row:\n%s", md)
	}
}

// Runs stored before the server's histograms were read load and render
// without the table.
func TestServerSideTableAbsentInOldRuns(t *testing.T) {
	sum, err := runfolder.LoadSummary(filepath.Join("..", "results", "reference-2core-single"))
	if err != nil {
		t.Fatal(err)
	}
	if md := RenderMarkdown(sum, nil); strings.Contains(md, "What the server sees") {
		t.Errorf("an old run has a client/server table:\n%s", md)
	}
}
