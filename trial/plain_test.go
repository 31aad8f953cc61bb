package trial

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/flipbench/flipbench/internal/procfs"
	"github.com/flipbench/flipbench/internal/spawn"
	"github.com/flipbench/flipbench/server/servertest"
)

// init lets the test binary double as a server that knows nothing of
// flipbench.
func init() { servertest.RunIfForeign() }

// foreignFile is a modes file whose mode "app" is this test binary as a
// server that knows nothing of flipbench, doing what behaviour says, given
// its port by {addr} or, with portEnv, in $PORT.
func foreignFile(t *testing.T, behaviour string, portEnv bool) *ModeFile {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	port := `command = ["` + exe + `", "{addr}"]`
	if portEnv {
		port = `command = ["` + exe + `"]` + "\nport_env = \"PORT\""
	}
	f, err := ParseModeFile("f.toml", []byte(`baseline = "app"
[modes.app]
`+port+`
env = ["`+servertest.EnvForeign+`=`+behaviour+`"]
ready = "/"
capacity = 2
request = {method = "POST", path = "/work", content_type = "text/plain", headers = {X-Try = "1"}}
`))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestPlainServer starts a foreign server from a modes file on a port it is
// given, sees it ready by GET /, sends its request and stops it cleanly;
// one that exits at once or never listens is reported in one line within
// the start timeout, and nothing of it is left running.
func TestPlainServer(t *testing.T) {
	sp := spawn.New()
	defer sp.Close()
	for _, tc := range []struct {
		behaviour string
		portEnv   bool
		want      string
	}{
		{"serve", false, ""},
		{"serve", true, ""},
		{"exit", false, "server exited before it was healthy (exit status 3)"},
		{"deaf", false, "server not healthy after 500ms (the start timeout)"},
	} {
		t.Run(tc.behaviour, func(t *testing.T) {
			f := foreignFile(t, tc.behaviour, tc.portEnv)
			m, _ := f.Lookup("app")
			spec, err := m.Command(Place{Modes: f})
			if err != nil {
				t.Fatal(err)
			}
			srv, err := startServer(sp, spec, "unused.jpg", filepath.Join(t.TempDir(), "server.log"), nil)
			if err != nil {
				t.Fatal(err)
			}
			_, _, err = srv.waitHealthy(context.Background(), 500*time.Millisecond)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("not ready: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n")):
				t.Errorf("err = %v, want one line with %q", err, tc.want)
			}
			if tc.want == "" {
				if lat, err := srv.WarmUp(context.Background(), 2, 5*time.Second); err != nil || len(lat) != 2 {
					t.Errorf("warm-up: %v, %v", lat, err)
				}
				if tgt := srv.Target(); tgt.Method != "POST" || !strings.HasSuffix(tgt.URL, "/work") || tgt.Header.Get("X-Try") != "1" {
					t.Errorf("target %+v", tgt)
				}
			}
			res := srv.stop(5 * time.Second)
			if ps := res.problems(5*time.Second, "server.log", false, true); tc.want == "" && len(ps) > 0 {
				t.Errorf("stop problems: %q", ps)
			}
			if err := syscall.Kill(srv.PID(), 0); !errors.Is(err, syscall.ESRCH) || len(procfs.GroupMembers(srv.PID())) > 0 {
				t.Errorf("pid %d still there after stop (%v)", srv.PID(), err)
			}
		})
	}
}

// TestPlainCommandMissing: a command that does not exist skips its mode
// with one line naming the field.
func TestPlainCommandMissing(t *testing.T) {
	f, err := ParseModeFile("f.toml", []byte(strings.Replace(foreignMode, `["app",`, `["no-such-server-here",`, 1)))
	if err != nil {
		t.Fatal(err)
	}
	var log strings.Builder
	_, _, err = ResolveAll([]string{"app"}, Place{Modes: f}, nil, "mode", &log)
	if err == nil || !strings.Contains(log.String(), "skip app: command: no-such-server-here is not on the PATH") {
		t.Errorf("err = %v, log %q", err, log.String())
	}
}

// TestPlainNoCapacity: a plain server whose ready answer says no capacity,
// with none in the file, is a one-line start problem and is stopped.
func TestPlainNoCapacity(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	f, err := ParseModeFile("f.toml", []byte(`baseline = "app"
[modes.app]
command = ["`+exe+`", "{addr}"]
env = ["`+servertest.EnvForeign+`=serve"]
ready = "/"
`))
	if err != nil {
		t.Fatal(err)
	}
	m, _ := f.Lookup("app")
	spec, err := m.Command(Place{Modes: f})
	if err != nil {
		t.Fatal(err)
	}
	sp := spawn.New()
	defer sp.Close()
	srv, err := startServer(sp, spec, "unused.jpg", filepath.Join(t.TempDir(), "server.log"), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = srv.waitHealthy(context.Background(), 5*time.Second)
	srv.stop(5 * time.Second)
	if err == nil || !strings.Contains(err.Error(), "capacity: not in the modes file, and GET / answered no capacity field") {
		t.Errorf("err = %v", err)
	}
}
