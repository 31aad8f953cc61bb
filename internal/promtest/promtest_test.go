package promtest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flipbench/flipbench/internal/testproc"
)

// TestStart runs a Prometheus that scrapes itself: its API answers
// queries, reports a bad one as an error, and the process is gone once the
// test that started it ends.
func TestStart(t *testing.T) {
	var pid int
	t.Run("scrape itself", func(t *testing.T) {
		// The config is written before the port is known: the target comes
		// from a file written after Start.
		p := Start(t, "global: {scrape_interval: 1s}\nscrape_configs:\n  - job_name: self\n    file_sd_configs: [{files: [targets.json], refresh_interval: 1s}]\n", map[string]string{"targets.json": "[]"})
		pid = p.PID
		if !testproc.Alive(pid) {
			t.Fatalf("prometheus %d is not running", pid)
		}
		target := fmt.Sprintf(`[{"targets": [%q]}]`, strings.TrimPrefix(p.URL, "http://"))
		if err := os.WriteFile(filepath.Join(p.Dir, "targets.json"), []byte(target), 0o600); err != nil {
			t.Fatal(err)
		}
		vec := p.WaitVector(t, 30*time.Second, `up{job="self"} == 1`)
		if len(vec) != 1 {
			t.Errorf("up: %v, want one sample", vec)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := p.Vector(ctx, "sum(rate(up[1m]"); err == nil || !strings.Contains(err.Error(), "bad_data") {
			t.Errorf("a query with a syntax error: got %v, want a bad_data error", err)
		}
		if _, err := p.Vector(ctx, `"a string"`); err == nil {
			t.Error("a string result read as an instant vector")
		}
	})
	if testproc.Alive(pid) {
		t.Errorf("prometheus %d outlived its test", pid)
	}
}
