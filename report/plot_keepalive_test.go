package report

import (
	"encoding/xml"
	"errors"
	"fmt"
	"image/color"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/flipbench/flipbench/loadtest"
	"github.com/flipbench/flipbench/runfolder"
)

// keepAliveRun is a run of standard and shared with 2 and 8 keep-alive
// clients over the given rounds: throughputs[mode][c][round].
func keepAliveRun(rounds int, tput func(mode string, c, r int) float64) *runfolder.Summary {
	sum := &runfolder.Summary{Run: "ka", Clients: []int{2, 8}}
	for _, mode := range []string{"standard", "shared"} {
		m := runfolder.ModeRun{Mode: mode}
		for r := 1; r <= rounds; r++ {
			t := runfolder.Trial{Round: r, Capacity: 1}
			for _, c := range sum.Clients {
				t.KeepAlive = append(t.KeepAlive, loadtest.KeepAliveMetrics{Clients: c, Throughput: tput(mode, c, r),
					Duration: loadtest.Duration(10 * time.Second)})
			}
			if r == 1 {
				m.Trial = t
			} else {
				m.Rounds = append(m.Rounds, t)
			}
		}
		sum.Modes = append(sum.Modes, m)
	}
	return sum
}

// whiskerPaths counts the whisker strokes of an SVG of gonum's: black,
// 1.2 points wide (each whisker is three: the line and its two caps).
func whiskerPaths(svg string) int {
	return len(regexp.MustCompile(`stroke:#000000;stroke-width:1\.2[^0-9]`).FindAllString(svg, -1))
}

// checkSVG fails t unless svg is well-formed XML with an svg root.
func checkSVG(t *testing.T, name, svg string) {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(svg))
	root := ""
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s does not parse as XML: %v", name, err)
		}
		if se, ok := tok.(xml.StartElement); ok && root == "" {
			root = se.Name.Local
		}
	}
	if root != "svg" {
		t.Fatalf("%s: root element %q, want svg", name, root)
	}
}

func hexColor(c color.Color) string {
	r, g, b, _ := c.RGBA()
	return fmt.Sprintf("#%02X%02X%02X", r>>8, g>>8, b>>8) // as gonum writes it
}

func TestKeepAlivePlot(t *testing.T) {
	// Five rounds: min–max whiskers on every bar, 2 groups × 2 modes.
	sum := keepAliveRun(5, func(mode string, c, r int) float64 {
		v := 10 + float64(r)
		if mode == "shared" {
			v *= 2
		}
		return v * float64(c) / 2
	})
	dir := t.TempDir()
	name, err := keepAlivePlotFile(dir, sum)
	if err != nil || name != "keepalive.svg" {
		t.Fatalf("keepAlivePlotFile = %q, %v", name, err)
	}
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	svg := string(b)
	checkSVG(t, name, svg)
	for _, want := range []string{">standard<", ">shared<", ">C = 2<", ">C = 8<", "answers / s"} {
		if !strings.Contains(svg, want) {
			t.Errorf("%s lacks %q", name, want)
		}
	}
	for i, mode := range []string{"standard", "shared"} {
		if c := hexColor(ModeColor(sum.OrderNames(), mode, i)); !strings.Contains(svg, "fill:"+c) {
			t.Errorf("%s has no bar in %s's colour %s", name, mode, c)
		}
	}
	if strings.Contains(svg, ">ideal<") {
		t.Errorf("%s has an ideal in its legend; a closed loop has none", name)
	}
	if got, want := whiskerPaths(svg), 3*4; got != want {
		t.Errorf("%s has %d whisker strokes, want %d (4 bars, 3 strokes each)", name, got, want)
	}
	// The intervals drawn are the figures': min–max of 5 rounds.
	f := runfolder.FiguresOf(sum)
	if kf, _ := keepAliveFigures(f, "shared", 8); kf.Throughput.Lo != 88 || kf.Throughput.Hi != 120 || kf.Throughput.Median != 104 {
		t.Errorf("shared C=8 figures %+v, want 104 {88–120}", kf.Throughput)
	}

	// One round: the bars without whiskers.
	one := keepAliveRun(1, func(string, int, int) float64 { return 10 })
	if _, err := keepAlivePlotFile(dir, one); err != nil {
		t.Fatal(err)
	}
	b, _ = os.ReadFile(filepath.Join(dir, name))
	checkSVG(t, name, string(b))
	if n := whiskerPaths(string(b)); n != 0 {
		t.Errorf("one round: %d whisker strokes, want none", n)
	}
	if !strings.Contains(string(b), ">shared<") {
		t.Errorf("one round: no bars of shared")
	}

	// No keep-alive clients: no plot.
	if name, err := keepAlivePlotFile(t.TempDir(), &runfolder.Summary{Modes: []runfolder.ModeRun{{Mode: "standard"}}}); name != "" || err != nil {
		t.Errorf("a run without keep-alive clients: %q, %v", name, err)
	}

	// summary.md shows it in the keep-alive section, not with the other plots.
	md := RenderMarkdown(sum, []string{"throughput.svg", "keepalive.svg"})
	ka, plots, _ := strings.Cut(md, "## Plots")
	if _, sec, ok := strings.Cut(ka, "## Keep-alive clients"); !ok || !strings.Contains(sec, "![keepalive](keepalive.svg)") {
		t.Errorf("summary.md's keep-alive section does not show keepalive.svg:\n%s", md)
	}
	if strings.Contains(plots, "keepalive.svg") || !strings.Contains(plots, "throughput.svg") {
		t.Errorf("summary.md's plots section:\n%s", plots)
	}
}
