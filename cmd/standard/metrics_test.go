package main

import (
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/flipbench/flipbench/contract"
	"github.com/flipbench/flipbench/internal/monitor"
	"github.com/flipbench/flipbench/internal/testproc"
)

// TestMetricsCountJobs checks that GET /metrics on the server's own address
// counts its jobs and carries Go's process and runtime metrics.
func TestMetricsCountJobs(t *testing.T) {
	pid, addr, exited := startStandard(t)
	url := "http://" + addr + contract.PathMetrics

	done := func() float64 {
		f := testproc.Scrape(t, url)[monitor.MetricJobsDone]
		if f == nil || len(f.GetMetric()) != 1 {
			t.Fatalf("%s: want one series, got %v", monitor.MetricJobsDone, f)
		}
		return testproc.Value(f.GetMetric()[0])
	}
	if got := done(); got != 0 {
		t.Errorf("%s before any job = %v, want 0", monitor.MetricJobsDone, got)
	}
	const flips = 3
	c := &http.Client{Timeout: 30 * time.Second}
	for range flips {
		resp, err := c.Post("http://"+addr+contract.PathFlip, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("POST /flip: status %d", resp.StatusCode)
		}
	}
	if got := done(); got != flips {
		t.Errorf("%s after %d jobs = %v", monitor.MetricJobsDone, flips, got)
	}
	fams := testproc.Scrape(t, url)
	for _, name := range []string{monitor.MetricJobsFailed, monitor.MetricJobsInFlight, monitor.MetricJobsQueued,
		"process_resident_memory_bytes", "go_goroutines"} {
		if fams[name] == nil {
			t.Errorf("no %s in /metrics", name)
		}
	}
	if fams[monitor.MetricWorkerUp] != nil {
		t.Errorf("a single process reports %s", monitor.MetricWorkerUp)
	}
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		exited <- err // for the cleanup
		if err != nil {
			t.Errorf("server exit after SIGTERM: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("server still running 30s after SIGTERM")
	}
}
