package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/flipbench/flipbench/contract"
	"github.com/flipbench/flipbench/internal/spawn"
)

// Resolve returns the spec that starts mode name in p, with extra appended
// to its arguments (a flag given twice takes its last value, so extra
// overrides the mode's own), or why the mode cannot run here.
func Resolve(name string, p Place, extra []string) (Spec, error) {
	mode, err := LookupMode(name)
	if err != nil {
		return Spec{Name: name}, err
	}
	spec, err := mode.Command(p)
	spec.Args = append(spec.Args, extra...)
	return spec, err
}

// Server is one mode's server, started the way Run starts its own and
// healthy, for experiments that fire their own load at it (package
// experiment).
type Server struct {
	srv       *server
	Spec      Spec
	Health    contract.Health
	HealthRaw json.RawMessage
}

// StartServer starts spec as Run does (port 0 of 127.0.0.1, an address file,
// a fresh tmpdir, its own process group, Pdeathsig; sp must outlive it), its
// output going to logPath, and waits up to startTimeout for its /healthz. A
// server that does not become healthy is stopped before the error returns.
func StartServer(ctx context.Context, sp *spawn.Spawner, spec Spec, image, logPath string, env []string, startTimeout, stopTimeout time.Duration) (*Server, error) {
	srv, err := startServer(sp, spec, image, logPath, env)
	if err != nil {
		return nil, err
	}
	h, raw, err := srv.waitHealthy(ctx, startTimeout)
	if err != nil {
		srv.stop(stopTimeout)
		return nil, fmt.Errorf("%s: %w", spec.Name, err)
	}
	spec.Capacity, spec.Workers = h.TotalCapacity(), max(h.Workers, 1)
	return &Server{srv: srv, Spec: spec, Health: h, HealthRaw: raw}, nil
}

// PID is the server's process id (also its process group's).
func (s *Server) PID() int { return s.srv.pid }

// Addr is the host:port the server bound.
func (s *Server) Addr() string { return s.srv.addr }

// URL returns the server's URL for path.
func (s *Server) URL(path string) string { return s.srv.url(path) }

// Exited reports whether the server has exited.
func (s *Server) Exited() bool { return s.srv.exited() }

// WarmUp sends n sequential jobs, as Run's warm-up does, and returns their
// latencies (runfolder.WarmupJobTime makes a warm-up job time of them);
// any answer but 200 is an error.
func (s *Server) WarmUp(ctx context.Context, n int, timeout time.Duration) ([]time.Duration, error) {
	lat, _, err := warmUp(ctx, s.URL(contract.PathFlip), n, timeout, func() {})
	if err != nil {
		return lat, fmt.Errorf("%s: warm-up: %w", s.Spec.Name, err)
	}
	return lat, nil
}

// Stop stops the server as Run does (SIGTERM to its PID, then its process
// group killed after grace) and returns what went wrong, one line each; none
// when it exited with code 0 and left nothing behind.
func (s *Server) Stop(grace time.Duration) []string {
	return s.srv.stop(grace).problems(grace, s.srv.log.Name(), false)
}

// problems says what went wrong in how a server stopped. guarded means the
// memory guard killed it: its early exit, exit code and leftovers are then
// the guard's doing.
func (r stopResult) problems(grace time.Duration, logPath string, guarded bool) []string {
	var ps []string
	switch {
	case guarded:
	case r.Early:
		ps = append(ps, fmt.Sprintf("exited on its own (exit code %d) before bench stopped it; see %s", r.ExitCode, logPath))
	case r.Killed:
		ps = append(ps, fmt.Sprintf("did not exit within %s of SIGTERM; its process group was killed", grace))
	case r.ExitCode != 0:
		ps = append(ps, fmt.Sprintf("exit code %d after SIGTERM (want 0); see %s", r.ExitCode, logPath))
	}
	if len(r.Survivors) > 0 {
		ps = append(ps, fmt.Sprintf("processes %v of its group outlived it (killed)", r.Survivors))
	}
	if len(r.Leftovers) > 0 && !guarded { // a killed server cannot clean up
		ps = append(ps, fmt.Sprintf("left %d entries in its tmpdir: %s", len(r.Leftovers), strings.Join(firstN(r.Leftovers, 5), ", ")))
	}
	return ps
}
