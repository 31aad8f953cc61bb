package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flipbench/flipbench/loadtest"
)

// TestReportMergesLoadHosts: the results of two attacks (two load hosts)
// come out of report as one attack.
func TestReportMergesLoadHosts(t *testing.T) {
	srv := flipServer(t)
	var files []string
	for _, n := range []string{"4", "5"} {
		out := t.TempDir()
		if code, _, stderr := runCLI(t, "attack", "-url", srv.URL+"/flip", "-n", n, "-timeout", "10s", "-out", out); code != exitOK {
			t.Fatalf("attack: exit %d\n%s", code, stderr)
		}
		files = append(files, filepath.Join(out, loadtest.BurstName(len(files)+4)+".bin"))
	}
	out := t.TempDir()
	code, stdout, stderr := runCLI(t, append([]string{"report", "-out", out}, files...)...)
	if code != exitOK {
		t.Fatalf("report: exit %d\n%s", code, stderr)
	}
	if !strings.Contains(stdout, "9 of 9 ok") || !strings.Contains(stdout, "per worker     42:9") {
		t.Errorf("merged report lacks 9 of 9 ok from worker 42:\n%s", stdout)
	}
	rs, err := loadtest.ReadResults(filepath.Join(out, "merged.bin"))
	if err != nil || len(rs) != 9 {
		t.Errorf("merged.bin: %d results, %v; want 9", len(rs), err)
	}
	for i := 1; i < len(rs); i++ {
		if rs[i].Timestamp.Before(rs[i-1].Timestamp) {
			t.Fatalf("merged results not in send order at %d", i)
		}
	}

	code, stdout, _ = runCLI(t, append([]string{"report", "-format", "json"}, files...)...)
	var m loadtest.Metrics
	if err := json.Unmarshal([]byte(stdout), &m); code != exitOK || err != nil || m.Requests != 9 {
		t.Errorf("json: exit %d, %+v, %v; want 9 requests", code, m, err)
	}
	if code, _, stderr := runCLI(t, "report", files[0], "not-a-results-file"); code != exitUsage {
		t.Errorf("a .bin and a folder: exit %d, want %d (%s)", code, exitUsage, stderr)
	}
}
