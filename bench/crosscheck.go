package bench

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/flipbench/flipbench/contract"
	"github.com/flipbench/flipbench/internal/artillery"
	"github.com/flipbench/flipbench/internal/procfs"
	"github.com/flipbench/flipbench/loadtest"
	"github.com/flipbench/flipbench/runfolder"
	"github.com/flipbench/flipbench/trial"
)

// Defaults of a CrossConfig: autocannon's own example, -c 10 -d 10.
const (
	DefaultCrossClients  = 10
	DefaultCrossDuration = 10 * time.Second
	DefaultCrossOut      = "results/crosscheck"
	// CrossScript is the Node script, in the Node app's folder, that runs
	// autocannon and counts its answers per connection.
	CrossScript = "crosscheck.js"
)

// CrossConfig is what CrossCheck does; zero values take the defaults noted.
type CrossConfig struct {
	// Settings start the servers; Image is contract.QuickImage, Out
	// DefaultCrossOut, NodeApp must have autocannon installed.
	trial.Settings
	Modes    []string      // every mode when nil
	Clients  int           // DefaultCrossClients
	Duration time.Duration // DefaultCrossDuration
	// Arrivals is the article's load, sent by Artillery and by the open
	// model on fresh starts of each mode's server after the clients.
	Arrivals CrossArrivals
	// MaxRSS is the memory guard's budget during the arrivals (a Node mode
	// past its capacity takes every arrival at once); 0 is
	// trial.DefaultMaxRSSShare of the machine's memory.
	MaxRSS uint64
}

func (c *CrossConfig) fill() {
	c.Image = cmp.Or(c.Image, contract.QuickImage)
	c.Fill(DefaultCrossOut)
	c.Clients = cmp.Or(c.Clients, DefaultCrossClients)
	c.Duration = cmp.Or(c.Duration, DefaultCrossDuration)
	if c.Modes == nil {
		c.Modes = trial.ModeNames()
	}
	c.Arrivals.Duration = cmp.Or(c.Arrivals.Duration, DefaultArrivalsDuration)
	if c.MaxRSS == 0 {
		c.MaxRSS = uint64(trial.DefaultMaxRSSShare * float64(procfs.MemTotal()))
	}
}

// The cross-check's data, in package runfolder.
type (
	ClientFigures = runfolder.ClientFigures
	Autocannon    = runfolder.Autocannon
	CrossRow      = runfolder.CrossRow
	CrossCheck    = runfolder.CrossCheck
)

// RunCrossCheck starts each mode's server in turn and loads it twice with
// the same C keep-alive clients for the same duration: first autocannon
// (through the Node app's crosscheck.js), then this project's KeepAlive,
// with one sequential request between them so that the second starts on an
// idle server. Then, unless Arrivals.Off, it sends the article's arrivals
// twice, each on a fresh start of the server: Artillery, then the project's
// open model (their rate measured in S on BaselineMode first, see
// CrossArrivals). A mode that cannot run, and autocannon or Artillery where
// node or its install is missing, are skipped with a one-line reason. Each
// mode's server log, autocannon's JSON and the keep-alive files go to
// Out/<mode>, the arrivals' files to Out/<mode>/artillery and
// Out/<mode>/open.
func RunCrossCheck(ctx context.Context, c CrossConfig) (*CrossCheck, error) {
	c.fill()
	if err := c.Validate(); err != nil {
		return nil, err
	}
	l := loadtest.Closed{Clients: c.Clients, Duration: c.Duration}
	if err := l.Validate(); err != nil {
		return nil, err
	}
	if c.Duration%time.Second != 0 {
		return nil, fmt.Errorf("duration %s: autocannon takes whole seconds", c.Duration)
	}
	if err := c.Arrivals.Validate(); err != nil {
		return nil, err
	}
	node, whyNoAutocannon := autocannonPath(c.NodeApp)
	if whyNoAutocannon != "" {
		fmt.Fprintf(c.Log, "autocannon: skipped in every mode: %s\n", whyNoAutocannon)
	}
	var whyNoArtillery string
	if !c.Arrivals.Off {
		if _, err := artillery.Check(c.NodeApp); err != nil {
			whyNoArtillery = err.Error()
			fmt.Fprintf(c.Log, "artillery: skipped in every mode (the open model runs alone): %s\n", whyNoArtillery)
		}
	}
	all, _, err := trial.ResolveAll(c.Modes, c.Place(), nil, "mode", c.Log)
	if err != nil {
		return nil, err
	}
	h := c.Harness()
	if _, err := h.Open(ctx, append(slices.Clone(c.Modes), runfolder.DirS), []string{fileCrossJSON, "crosscheck.md"}, nil); err != nil {
		return nil, err
	}
	defer h.Close() // after every server has stopped
	cc := &CrossCheck{Clients: c.Clients, Duration: loadtest.Duration(c.Duration), Image: c.Image}
	if !c.Arrivals.Off {
		if cc.Arrivals, err = c.chooseArrivals(ctx, h); err != nil {
			return cc, err
		}
	}
	for i, r := range all {
		row := CrossRow{Mode: c.Modes[i], AutocannonSkipped: whyNoAutocannon, Skipped: r.Skipped}
		if r.Skipped == "" {
			err := c.checkMode(ctx, h, r.Spec, node, l, cc.Arrivals, whyNoArtillery, &row)
			if err != nil {
				cc.Rows = append(cc.Rows, row)
				return cc, err
			}
		}
		cc.Rows = append(cc.Rows, row)
	}
	return cc, loadtest.WriteJSON(filepath.Join(c.Out, fileCrossJSON), cc)
}

// checkMode runs one mode's trials into row: the clients, then the
// arrivals (a unless nil), each on a fresh start of its server.
func (c CrossConfig) checkMode(ctx context.Context, h *trial.Harness, spec trial.Spec, node string, l loadtest.Closed,
	a *runfolder.CrossArrivals, whyNoArtillery string, row *CrossRow) error {
	dir := filepath.Join(c.Out, spec.Name)
	m := crossMeasure{c: c, node: node, l: l, row: row}
	rec, _, err := h.Run(ctx, spec, 1, dir, m.measure)
	row.Problems = append(row.Problems, rec.Problems...)
	row.NoteBusy(rec, "clients")
	if err != nil || a == nil {
		return err
	}
	row.ArtillerySkipped = whyNoArtillery
	return arrivalsRun{c: c, a: a, whyNoArtillery: whyNoArtillery, row: row}.run(ctx, h, spec, dir)
}

// fileCrossJSON is the cross-check's data in its folder.
const fileCrossJSON = "crosscheck.json"

// crossMeasure loads one mode's warmed-up server with both clients into row.
type crossMeasure struct {
	c    CrossConfig
	node string // "" when autocannon cannot run
	l    loadtest.Closed
	row  *CrossRow
}

// measure is the trial's Measure: autocannon, one sequential job so that
// the next client starts on an idle server, then the project's clients.
func (m crossMeasure) measure(ctx context.Context, t *trial.Trial) error {
	srv, name, l := t.Server, t.Server.Spec.Name, m.l
	url := srv.URL(contract.PathFlip)
	if m.node != "" {
		a, err := runAutocannon(ctx, m.node, m.c.NodeApp, url, l, t.Dir)
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case err != nil:
			m.row.AutocannonSkipped = err.Error()
			t.Logf("%s: autocannon: %v", name, err)
		default:
			m.row.Autocannon = a
			t.Logf("%s: autocannon: %d answers, %.2f/s, p50 %.0f ms, p99 %.0f ms, %d of %d connections never answered",
				name, a.Answers, a.Throughput, a.P50, a.P99, a.NeverAnswered, l.Clients)
		}
		if _, err := srv.WarmUp(ctx, 1, trial.DefaultWarmTimeout); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			t.Problem("%v", err)
			return nil
		}
	}
	file := loadtest.KeepAliveName(l.Clients)
	rs, err := loadtest.KeepAlive(ctx, vegeta.Target{Method: http.MethodPost, URL: url}, l,
		loadtest.WithTimeout(l.Duration+time.Minute), loadtest.WithName(name+"/"+file))
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		t.Problem("%v", err)
		return nil
	}
	km := loadtest.ComputeKeepAlive(rs, l)
	if err := loadtest.WriteKeepAlive(t.Dir, file, rs, km); err != nil {
		return err
	}
	m.row.Flipbench = figures(km)
	t.Logf("%s: flipbench: %d answers, %.2f/s, p50 %s, p99 %s, %d of %d clients never answered",
		name, km.Answers, km.Throughput, km.Latency.Median, km.Latency.P99, km.Starved, l.Clients)
	return nil
}

// figures are the cross-check's columns of a keep-alive run.
func figures(m loadtest.KeepAliveMetrics) *ClientFigures {
	f := &ClientFigures{
		Answers: m.Answers, Throughput: m.Throughput, NeverAnswered: m.Starved,
		P50: ms(m.Latency.Median), P99: ms(m.Latency.P99), PerClient: m.AnswerCounts(),
	}
	if m.Duration > 0 { // per second of the run, as autocannon counts
		f.Throughput = float64(m.Answers) / m.Duration.D().Seconds()
	}
	return f
}

// autocannonPath returns node's path, or why autocannon cannot run from
// the Node app nodeApp.
func autocannonPath(nodeApp string) (string, string) {
	node, err := exec.LookPath("node")
	if err != nil {
		return "", "node is not on the PATH"
	}
	for _, f := range []string{CrossScript, filepath.Join("node_modules", "autocannon", "package.json")} {
		if _, err := os.Stat(filepath.Join(nodeApp, f)); err != nil {
			return "", fmt.Sprintf("%s is missing (make build runs npm ci in %s)", filepath.Join(nodeApp, f), nodeApp)
		}
	}
	return node, ""
}

// runAutocannon runs crosscheck.js at url with l's clients and duration,
// keeps its output in dir/autocannon.json and returns it.
func runAutocannon(ctx context.Context, node, nodeApp, url string, l loadtest.Closed, dir string) (*Autocannon, error) {
	ctx, cancel := context.WithTimeout(ctx, l.Duration+2*time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, node, filepath.Join(nodeApp, CrossScript), url,
		strconv.Itoa(l.Clients), strconv.Itoa(int(l.Duration/time.Second)), http.MethodPost)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("autocannon: %w: %s", err, bytes.TrimSpace(stderr.Bytes()))
	}
	if err := os.WriteFile(filepath.Join(dir, "autocannon.json"), stdout.Bytes(), 0o644); err != nil {
		return nil, fmt.Errorf("autocannon: %w", err)
	}
	var a Autocannon
	if err := json.Unmarshal(stdout.Bytes(), &a); err != nil {
		return nil, fmt.Errorf("autocannon output: %w", err)
	}
	if len(a.PerClient) != l.Clients {
		return nil, errors.New("autocannon output: no per-connection counts")
	}
	return &a, nil
}
