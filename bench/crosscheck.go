package bench

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/flipbench/flipbench/contract"
	"github.com/flipbench/flipbench/internal/spawn"
	"github.com/flipbench/flipbench/loadtest"
	"github.com/flipbench/flipbench/runfolder"
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
	BinDir       string        // DefaultBinDir
	NodeApp      string        // the Node app, with autocannon installed; DefaultNodeApp
	Modes        []string      // every mode when nil
	Image        string        // contract.QuickImage
	Out          string        // DefaultCrossOut
	Clients      int           // DefaultCrossClients
	Duration     time.Duration // DefaultCrossDuration
	Warmups      int           // DefaultWarmups
	Cores        int           // the core count modes size themselves by
	StartTimeout time.Duration // DefaultStartTimeout
	StopTimeout  time.Duration // DefaultStopTimeout
	Log          io.Writer     // one line per step; nil discards
}

func (c *CrossConfig) fill() {
	c.BinDir = cmp.Or(c.BinDir, DefaultBinDir)
	c.NodeApp = cmp.Or(c.NodeApp, DefaultNodeApp)
	c.Image = cmp.Or(c.Image, contract.QuickImage)
	c.Out = cmp.Or(c.Out, DefaultCrossOut)
	c.Clients = cmp.Or(c.Clients, DefaultCrossClients)
	c.Duration = cmp.Or(c.Duration, DefaultCrossDuration)
	c.Warmups = cmp.Or(c.Warmups, DefaultWarmups)
	c.StartTimeout = cmp.Or(c.StartTimeout, DefaultStartTimeout)
	c.StopTimeout = cmp.Or(c.StopTimeout, DefaultStopTimeout)
	if c.Modes == nil {
		c.Modes = ModeNames()
	}
	if c.Log == nil {
		c.Log = io.Discard
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
// idle server. A mode that cannot run, and autocannon where node or its
// install is missing, are skipped with a one-line reason. Each mode's server
// log, autocannon's JSON and the keep-alive files go to Out/<mode>.
func RunCrossCheck(ctx context.Context, c CrossConfig) (*CrossCheck, error) {
	c.fill()
	image, err := filepath.Abs(c.Image)
	if err != nil {
		return nil, fmt.Errorf("image: %w", err)
	}
	if _, err := os.Stat(image); err != nil {
		return nil, fmt.Errorf("image: %w", err)
	}
	l := loadtest.Closed{Clients: c.Clients, Duration: c.Duration}
	if err := l.Validate(); err != nil {
		return nil, err
	}
	if c.Duration%time.Second != 0 {
		return nil, fmt.Errorf("duration %s: autocannon takes whole seconds", c.Duration)
	}
	place := Place{BinDir: c.BinDir, NodeApp: c.NodeApp, Cores: cmp.Or(c.Cores, 1)}
	node, whyNoAutocannon := autocannonPath(place)
	if whyNoAutocannon != "" {
		fmt.Fprintf(c.Log, "autocannon: skipped in every mode: %s\n", whyNoAutocannon)
	}
	sp := spawn.New()
	defer sp.Close()
	cc := &CrossCheck{Clients: c.Clients, Duration: loadtest.Duration(c.Duration), Image: c.Image}
	for _, name := range c.Modes {
		row := CrossRow{Mode: name, AutocannonSkipped: whyNoAutocannon}
		spec, err := Resolve(name, place, nil)
		if err != nil {
			row.Skipped = err.Error()
			fmt.Fprintf(c.Log, "skip %s: %v\n", name, err)
			cc.Rows = append(cc.Rows, row)
			continue
		}
		dir := filepath.Join(c.Out, name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return cc, fmt.Errorf("output folder: %w", err)
		}
		err = crossMode(ctx, c, sp, spec, image, dir, node, l, &row)
		cc.Rows = append(cc.Rows, row)
		if err != nil {
			return cc, err
		}
	}
	return cc, loadtest.WriteJSON(filepath.Join(c.Out, "crosscheck.json"), cc)
}

// crossMode runs both clients at one mode's server into row; the error is
// for cancellation and failing to write files, the server's trouble goes to
// row.Problems.
func crossMode(ctx context.Context, c CrossConfig, sp *spawn.Spawner, spec Spec, image, dir, node string, l loadtest.Closed, row *CrossRow) error {
	srv, err := StartServer(ctx, sp, spec, image, filepath.Join(dir, runfolder.FileServerLog), nil, c.StartTimeout, c.StopTimeout)
	if err != nil {
		row.Problems = append(row.Problems, err.Error())
		return ctx.Err()
	}
	fmt.Fprintf(c.Log, "%s: started (pid %d), capacity %d\n", spec.Name, srv.PID(), srv.Spec.Capacity)
	defer func() {
		for _, p := range srv.Stop(c.StopTimeout) {
			row.Problems = append(row.Problems, p)
			fmt.Fprintf(c.Log, "%s: problem: %s\n", spec.Name, p)
		}
	}()
	// A Node job takes several seconds: one sequential request's timeout
	// must cover a queue left by the last client.
	settle := func() error {
		_, err := srv.WarmUp(ctx, 1, 5*time.Minute)
		return err
	}
	if _, err := srv.WarmUp(ctx, c.Warmups, 5*time.Minute); err != nil {
		row.Problems = append(row.Problems, err.Error())
		return ctx.Err()
	}
	url := srv.URL(contract.PathFlip)
	if node != "" {
		a, err := runAutocannon(ctx, node, c.NodeApp, url, l, dir)
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case err != nil:
			row.AutocannonSkipped = err.Error()
			fmt.Fprintf(c.Log, "%s: autocannon: %v\n", spec.Name, err)
		default:
			row.Autocannon = a
			fmt.Fprintf(c.Log, "%s: autocannon: %d answers, %.2f/s, p50 %.0f ms, p99 %.0f ms, %d of %d connections never answered\n",
				spec.Name, a.Answers, a.Throughput, a.P50, a.P99, a.NeverAnswered, l.Clients)
		}
		if err := settle(); err != nil {
			row.Problems = append(row.Problems, err.Error())
			return ctx.Err()
		}
	}
	name := loadtest.KeepAliveName(l.Clients)
	rs, err := loadtest.KeepAlive(ctx, vegeta.Target{Method: http.MethodPost, URL: url}, l,
		loadtest.WithTimeout(l.Duration+time.Minute), loadtest.WithName(spec.Name+"/"+name))
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		row.Problems = append(row.Problems, err.Error())
		return nil
	}
	m := loadtest.ComputeKeepAlive(rs, l)
	if err := loadtest.WriteKeepAlive(dir, name, rs, m); err != nil {
		return err
	}
	row.Flipbench = figures(m)
	fmt.Fprintf(c.Log, "%s: flipbench: %d answers, %.2f/s, p50 %s, p99 %s, %d of %d clients never answered\n",
		spec.Name, m.Answers, m.Throughput, m.Latency.Median, m.Latency.P99, m.Starved, l.Clients)
	return nil
}

// figures are the cross-check's columns of a keep-alive run.
func figures(m loadtest.KeepAliveMetrics) *ClientFigures {
	ms := func(d loadtest.Duration) float64 { return float64(d.D()) / float64(time.Millisecond) }
	f := &ClientFigures{
		Answers: m.Answers, Throughput: m.Throughput, NeverAnswered: m.Starved,
		P50: ms(m.Latency.Median), P99: ms(m.Latency.P99), PerClient: m.AnswerCounts(),
	}
	if m.Duration > 0 { // per second of the run, as autocannon counts
		f.Throughput = float64(m.Answers) / m.Duration.D().Seconds()
	}
	return f
}

// autocannonPath returns node's path, or why autocannon cannot run here.
func autocannonPath(p Place) (string, string) {
	node, err := exec.LookPath("node")
	if err != nil {
		return "", "node is not on the PATH"
	}
	for _, f := range []string{CrossScript, filepath.Join("node_modules", "autocannon", "package.json")} {
		if _, err := os.Stat(filepath.Join(p.NodeApp, f)); err != nil {
			return "", fmt.Sprintf("%s is missing (make build runs npm ci in %s)", filepath.Join(p.NodeApp, f), p.NodeApp)
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
