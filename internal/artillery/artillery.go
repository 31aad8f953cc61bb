// Package artillery runs Artillery, the load tool of the article's
// repository, through the Node app's artillery.js: the article's
// artillery.yaml shape (one phase of a constant arrival rate, one POST per
// virtual user on a connection of its own) at one URL, Artillery's figures
// back as a runfolder.Artillery. It knows nothing of modes or servers.
package artillery

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/flipbench/flipbench/internal/spawn"
	"github.com/flipbench/flipbench/runfolder"
)

// Script is the Node script, in the Node app's folder, that runs Artillery.
const Script = "artillery.js"

// DefaultTimeout is Artillery's own request timeout.
const DefaultTimeout = 10 * time.Second

// slack bounds a run beyond its phase and its last request's timeout:
// node's and Artillery's start, and artillery.js's own limit (a minute).
const slack = 90 * time.Second

// stopDelay is how long a cancelled run has, after SIGTERM, to kill
// Artillery and remove its temp folder before it is killed.
const stopDelay = 10 * time.Second

// Why Artillery cannot run here; Check and Run wrap them.
var (
	ErrNoNode       = errors.New("node is not on the PATH")
	ErrNotInstalled = errors.New("artillery is not installed: run make build")
)

// Load is one Artillery run: Rate arrivals per second for Duration at URL,
// each waiting at most Timeout (0: DefaultTimeout) for its answer.
type Load struct {
	URL      string
	Rate     float64
	Duration time.Duration
	Timeout  time.Duration
}

// Validate says in one line what is wrong with l.
func (l Load) Validate() error {
	u, err := url.Parse(l.URL)
	switch {
	case err != nil:
		return fmt.Errorf("artillery: %w", err)
	case (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return fmt.Errorf("artillery: URL %q is not http(s)://host/path", l.URL)
	case !(l.Rate > 0):
		return fmt.Errorf("artillery: rate %g: want arrivals per second above 0", l.Rate)
	case l.Duration <= 0:
		return fmt.Errorf("artillery: duration %s: want above 0", l.Duration)
	case l.Rate*l.Duration.Seconds() < 1:
		return fmt.Errorf("artillery: %g/s for %s is not one arrival", l.Rate, l.Duration)
	case l.Timeout < 0:
		return fmt.Errorf("artillery: timeout %s: want 0 (the default) or above", l.Timeout)
	}
	return nil
}

func (l Load) timeout() time.Duration {
	if l.Timeout == 0 {
		return DefaultTimeout
	}
	return l.Timeout
}

// Check returns node's path, or why Artillery cannot run from nodeApp (the
// Node app's folder): ErrNoNode, ErrNotInstalled, or a missing script.
func Check(nodeApp string) (string, error) {
	node, err := exec.LookPath("node")
	if err != nil {
		return "", ErrNoNode
	}
	if _, err := os.Stat(filepath.Join(nodeApp, Script)); err != nil {
		return "", fmt.Errorf("artillery: %w", err)
	}
	if _, err := os.Stat(filepath.Join(nodeApp, "node_modules", "artillery", "package.json")); err != nil {
		return "", ErrNotInstalled
	}
	return node, nil
}

// Run runs Artillery with l from nodeApp and returns its figures. It ends
// within l's duration, timeout and a slack, or when ctx is done; Artillery
// never outlives it (artillery.js gets SIGTERM, and Pdeathsig if this
// process dies).
func Run(ctx context.Context, nodeApp string, l Load) (*runfolder.Artillery, error) {
	if err := l.Validate(); err != nil {
		return nil, err
	}
	node, err := Check(nodeApp)
	if err != nil {
		return nil, err
	}
	limit := l.Duration + l.timeout() + slack
	run, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	seconds := func(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', -1, 64) }
	cmd := exec.CommandContext(run, node, filepath.Join(nodeApp, Script), l.URL,
		strconv.FormatFloat(l.Rate, 'f', -1, 64), seconds(l.Duration), seconds(l.timeout()))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = stopDelay
	sp := spawn.New()
	defer sp.Close() // after Wait: the child's Pdeathsig is tied to its thread
	if err := sp.Start(cmd); err != nil {
		return nil, fmt.Errorf("artillery: %w", err)
	}
	if err := cmd.Wait(); err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("artillery: %w", context.Cause(ctx))
		}
		if run.Err() != nil {
			return nil, fmt.Errorf("artillery: no result within %s", limit)
		}
		return nil, fmt.Errorf("artillery: %w: %s", err, firstLine(stderr.String()))
	}
	return runfolder.DecodeArtillery(stdout.Bytes())
}

// firstLine is the first non-blank line of s: artillery.js puts its reason
// there.
func firstLine(s string) string {
	for line := range strings.Lines(s) {
		if t := strings.TrimSpace(line); t != "" {
			return t
		}
	}
	return "(no output)"
}
