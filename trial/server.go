package trial

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"syscall"
	"time"

	"github.com/flipbench/flipbench/contract"
	"github.com/flipbench/flipbench/internal/procfs"
	"github.com/flipbench/flipbench/internal/spawn"
)

// Server is one running server process, in its own process group: a
// trial's, healthy and warmed up when a Measure sees it. It gets SIGKILL if
// the harness's process dies (Pdeathsig), so a killed run leaves no server.
type Server struct {
	Spec      Spec // sized by its /healthz once healthy (Workers, Capacity)
	Health    contract.Health
	HealthRaw json.RawMessage

	cmd    *exec.Cmd
	pid    int
	addr   string // known once the server wrote its address file
	tmpdir string
	done   chan struct{} // closed when the process has exited
	err    error         // cmd.Wait's error, valid after done
	log    *os.File
	body   []byte // of the mode's request
}

// startServer starts spec on port 0 of 127.0.0.1 with a fresh tmpdir, its
// output going to logPath. The server reports the port it bound through an
// address file in that tmpdir, so no port is guessed ahead and raced for.
func startServer(sp *spawn.Spawner, spec Spec, image, logPath string, env []string) (*Server, error) {
	// Named after this process, so that a later run can tell the dirs of a
	// run that was killed before it could clean up, and remove them.
	if err := procfs.RemoveDead(os.TempDir(), tmpPrefix); err != nil {
		return nil, fmt.Errorf("start %s: %w", spec.Name, err)
	}
	tmpdir, err := os.MkdirTemp("", fmt.Sprintf("%s%d-%s-", tmpPrefix, os.Getpid(), spec.Name))
	if err != nil {
		return nil, fmt.Errorf("start %s: make tmpdir: %w", spec.Name, err)
	}
	body, err := requestBody(spec)
	if err != nil {
		os.RemoveAll(tmpdir)
		return nil, fmt.Errorf("start %s: %w", spec.Name, err)
	}
	logf, err := os.Create(logPath)
	if err != nil {
		os.RemoveAll(tmpdir)
		return nil, fmt.Errorf("start %s: %w", spec.Name, err)
	}
	args := append(slices.Clone(spec.Args),
		contract.Arg(contract.FlagAddr, "127.0.0.1:0"),
		contract.Arg(contract.FlagAddrFile, filepath.Join(tmpdir, addrFile)),
		contract.Arg(contract.FlagImage, image),
		contract.Arg(contract.FlagTempDir, tmpdir))
	extraEnv := slices.Concat(spec.Env, env)
	var addr string
	if spec.Plain {
		// It knows no flipbench flags: its port goes in through {port},
		// {addr} or PortEnv, and TMPDIR is where its leftovers are looked for.
		port, err := freePort()
		if err != nil {
			logf.Close()
			os.RemoveAll(tmpdir)
			return nil, fmt.Errorf("start %s: %w", spec.Name, err)
		}
		vars := plainVars(port, image, tmpdir)
		args, addr = expandAll(spec.Args, vars), vars[phAddr]
		extraEnv = append(expandAll(extraEnv, vars), "TMPDIR="+tmpdir)
		if spec.PortEnv != "" {
			extraEnv = append(extraEnv, spec.PortEnv+"="+vars[phPort])
		}
	}
	cmd := exec.Command(spec.Binary, args...)
	cmd.Dir = spec.Dir
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = slices.Concat(os.Environ(), extraEnv)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := sp.Start(cmd); err != nil {
		logf.Close()
		os.RemoveAll(tmpdir)
		return nil, fmt.Errorf("start %s: %w", spec.Name, err)
	}
	s := &Server{Spec: spec, cmd: cmd, pid: cmd.Process.Pid, addr: addr, body: body, tmpdir: tmpdir, done: make(chan struct{}), log: logf}
	go func() {
		s.err = cmd.Wait()
		close(s.done)
	}()
	return s, nil
}

// PID is the server's process id (also its process group's).
func (s *Server) PID() int { return s.pid }

// Addr is the host:port the server bound.
func (s *Server) Addr() string { return s.addr }

// URL returns the server's URL for path.
func (s *Server) URL(path string) string { return "http://" + s.addr + path }

// Exited reports whether the server has exited.

// WarmUp sends n more sequential jobs, as the trial's warm-up does, and
// returns their latencies; any answer but 200 is an error. A Measure uses it
// to let a queue drain between two loads.
func (s *Server) WarmUp(ctx context.Context, n int, timeout time.Duration) ([]time.Duration, error) {
	lat, _, err := warmUp(ctx, s.Target(), n, timeout, func() {})
	if err != nil {
		return lat, fmt.Errorf("%s: warm-up: %w", s.Spec.Name, err)
	}
	return lat, nil
}

// tmpPrefix begins the name of each server's tmpdir, followed by the pid
// of the process that started it.
const tmpPrefix = "flipbench-bench-"

// addrFile is the name of the address file in a server's tmpdir; the
// leftover check leaves it out.
const addrFile = "addr"

// Exited reports whether the process has exited.
func (s *Server) Exited() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// waitHealthy polls the server's readiness (its /healthz, another path or
// a TCP connect; see Spec.Ready) until it is ready, the process exits, ctx
// ends or timeout passes. It returns the server's Health when the ready
// answer was one.
func (s *Server) waitHealthy(ctx context.Context, timeout time.Duration) (contract.Health, json.RawMessage, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	var last error
	for {
		if s.addr == "" {
			s.addr, last = contract.ReadAddrFile(filepath.Join(s.tmpdir, addrFile))
		}
		if s.addr != "" {
			h, raw, ok, err := probe(ctx, client, s.Spec, s.addr)
			switch {
			case err != nil:
				last = err
			case ok || s.Spec.Capacity > 0:
				return h, raw, nil
			default:
				return h, nil, fmt.Errorf("capacity: not in the modes file, and GET %s answered no capacity field", readyPath(s.Spec))
			}
		}
		select {
		case <-s.done:
			return contract.Health{}, nil, fmt.Errorf("server exited before it was healthy (%v); see %s", s.err, s.log.Name())
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return contract.Health{}, nil, fmt.Errorf("server not healthy after %s (the start timeout): %w", timeout, last)
			}
			return contract.Health{}, nil, ctx.Err()
		case <-tick.C:
		}
	}
}

// stopResult is how a server went away.
type stopResult struct {
	ExitCode  int      // -1 when killed by a signal
	Early     bool     // it had exited on its own before stop was called
	Killed    bool     // it outlived the grace period and its group was killed
	Survivors []int    // processes of its group still alive after it exited
	Leftovers []string // entries left in its tmpdir
}

// stop sends SIGTERM to the server's PID, waits up to grace for it to exit,
// then kills its whole process group. It also kills group members that
// outlived the leader, lists what the server left in its tmpdir and removes
// the tmpdir. It does not depend on any context: a cancelled run still
// stops its server.
func (s *Server) stop(grace time.Duration) stopResult {
	var res stopResult
	res.Early = s.Exited()
	if !res.Early {
		_ = syscall.Kill(s.pid, syscall.SIGTERM)
		select {
		case <-s.done:
		case <-time.After(grace):
			res.Killed = true
			_ = syscall.Kill(-s.pid, syscall.SIGKILL)
			<-s.done
		}
	}
	res.ExitCode = s.cmd.ProcessState.ExitCode()

	// The leader is gone; its workers should be too. Give them a moment.
	deadline := time.Now().Add(2 * time.Second)
	for {
		res.Survivors = procfs.GroupMembers(s.pid)
		if len(res.Survivors) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if len(res.Survivors) > 0 {
		_ = syscall.Kill(-s.pid, syscall.SIGKILL)
	}

	os.Remove(filepath.Join(s.tmpdir, addrFile))
	res.Leftovers = listTree(s.tmpdir)
	_ = os.RemoveAll(s.tmpdir)
	_ = s.log.Close()
	return res
}

// listTree returns the paths (relative to dir) of everything under dir.
func listTree(dir string) []string {
	var out []string
	_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || path == dir {
			return nil
		}
		rel, _ := filepath.Rel(dir, path)
		if d.IsDir() {
			rel += "/"
		}
		out = append(out, rel)
		return nil
	})
	return out
}
