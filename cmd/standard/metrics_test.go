package main

import (
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/flipbench/flipbench/contract"
	"github.com/flipbench/flipbench/internal/monitor"
	"github.com/flipbench/flipbench/internal/monitor/monitortest"
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

// TestMetricsHistograms checks that /metrics has the request, job and
// queue wait histograms with one observation per request or job made, an
// unknown path under the route "other", and that promtool takes the text.
func TestMetricsHistograms(t *testing.T) {
	_, addr, _ := startStandard(t)
	base := "http://" + addr
	c := &http.Client{Timeout: 30 * time.Second}
	const flips = 3
	for range flips {
		resp, err := c.Post(base+contract.PathFlip, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("POST /flip: status %d", resp.StatusCode)
		}
	}
	for _, path := range []string{"/no/such/path", "/another"} {
		resp, err := c.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	text := testproc.Fetch(t, base+contract.PathMetrics, nil)
	fams := testproc.Parse(t, text)
	flip := map[string]string{monitor.LabelRoute: contract.PathFlip, monitor.LabelCode: "200"}
	unknown := map[string]string{monitor.LabelRoute: monitor.RouteOther, monitor.LabelCode: "404"}
	monitortest.Check(t, fams,
		monitortest.Want{Name: monitor.MetricRequestDuration, Labels: flip, Count: flips},
		monitortest.Want{Name: monitor.MetricRequestDuration, Labels: unknown, Count: 2},
		monitortest.Want{Name: monitor.MetricJobDuration, Count: flips},
		monitortest.Want{Name: monitor.MetricQueueWait, Count: flips},
	)
	for _, labels := range []map[string]string{flip, unknown} {
		if n := len(monitortest.Histograms(fams, monitor.MetricRequestDuration, labels)); n != 1 {
			t.Errorf("%s%v: %d series, want 1", monitor.MetricRequestDuration, labels, n)
		}
	}
	for _, hs := range monitortest.Histograms(fams, monitor.MetricJobDuration, nil) {
		if n := len(hs.GetBucket()); n != len(monitor.Buckets())+1 { // and +Inf
			t.Errorf("%s has %d buckets, want %d and +Inf", monitor.MetricJobDuration, n, len(monitor.Buckets()))
		}
	}
	monitortest.Promtool(t, text)
}
