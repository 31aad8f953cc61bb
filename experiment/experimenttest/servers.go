package experimenttest

import (
	"io"
	"testing"
	"time"

	"github.com/flipbench/flipbench/server/servertest"
	"github.com/flipbench/flipbench/trial"
)

// Settings are the server settings of a test's Config: the fake servers
// (the test binary, see Main) on the test photo, 2 cores, run folder out,
// the log to log and env added to every server's environment.
func Settings(t testing.TB, out string, log io.Writer, env ...string) trial.Settings {
	return trial.Settings{BinDir: servertest.LinkBin(t), NodeApp: t.TempDir(), Image: servertest.Photo(t), Out: out, Cores: 2,
		StartTimeout: 20 * time.Second, StopTimeout: 5 * time.Second, Log: log, ServerEnv: env}
}
