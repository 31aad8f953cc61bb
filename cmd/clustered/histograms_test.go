package main

import (
	"fmt"
	"strconv"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/flipbench/flipbench/contract"
	"github.com/flipbench/flipbench/internal/monitor"
	"github.com/flipbench/flipbench/internal/monitor/monitortest"
	"github.com/flipbench/flipbench/internal/testproc"
)

// jobCounts is each worker index's flipbench_job_duration_seconds count
// in fams.
func jobCounts(fams map[string]*dto.MetricFamily) map[string]uint64 {
	out := map[string]uint64{}
	for _, m := range fams[monitor.MetricJobDuration].GetMetric() {
		out[testproc.Label(m, monitor.LabelWorker)] += m.GetHistogram().GetSampleCount()
	}
	return out
}

func sum(counts map[string]uint64) uint64 {
	var n uint64
	for _, c := range counts {
		n += c
	}
	return n
}

// TestAdminHistograms checks the cluster's histograms on the admin
// /metrics: per worker index, one observation per job, buckets that
// promtool takes, and counts that a killed and restarted worker does not
// make go down.
func TestAdminHistograms(t *testing.T) {
	m := start(t, "reuseport")
	url := "http://" + m.admin + contract.PathMetrics
	c := newClient()
	flips := func(n int) {
		for range n {
			if _, err := c.flip(m.addr); err != nil {
				t.Fatal(err)
			}
		}
	}
	// reached scrapes until the workers have reported want jobs in all.
	reached := func(want uint64) ([]byte, map[string]*dto.MetricFamily) {
		var text []byte
		var fams map[string]*dto.MetricFamily
		testproc.WaitFor(t, 10*time.Second, fmt.Sprintf("%d jobs in %s", want, monitor.MetricJobDuration), func() bool {
			text = testproc.Fetch(t, url, nil)
			fams = testproc.Parse(t, text)
			return sum(jobCounts(fams)) >= want
		})
		return text, fams
	}

	const first = 4
	flips(first)
	text, fams := reached(first)
	for _, tc := range []struct {
		name   string
		labels map[string]string
	}{
		{monitor.MetricRequestDuration, map[string]string{monitor.LabelRoute: contract.PathFlip, monitor.LabelCode: "200"}},
		{monitor.MetricJobDuration, nil},
		{monitor.MetricQueueWait, nil},
	} {
		hs := monitortest.Histograms(fams, tc.name, tc.labels)
		if got := monitortest.Count(hs); got != first {
			t.Errorf("%s%v counts %d over the workers, want %d", tc.name, tc.labels, got, first)
		}
		monitortest.CheckBuckets(t, tc.name, hs)
	}
	for _, s := range fams[monitor.MetricJobDuration].GetMetric() {
		if w := testproc.Label(s, monitor.LabelWorker); w != "0" && w != "1" {
			t.Errorf("%s has worker label %q, want an index", monitor.MetricJobDuration, w)
		}
	}
	before := jobCounts(fams)

	// Kill the index that ran the most jobs: its count must not drop.
	victim, pid := "0", 0
	if before["1"] > before["0"] {
		victim = "1"
	}
	for _, w := range workers(t, m.admin).Workers {
		if strconv.Itoa(w.Worker) == victim {
			pid = w.PID
		}
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitWorkers(t, m.admin, 2, []int{pid})
	after := jobCounts(testproc.Scrape(t, url))
	for idx, n := range before {
		if after[idx] < n {
			t.Errorf("worker %s's job count went from %d to %d across its restart", idx, n, after[idx])
		}
	}
	const second = 4
	flips(second)
	_, fams = reached(first + second)
	if got := sum(jobCounts(fams)); got != first+second {
		t.Errorf("after the restart and %d more jobs the workers count %d, want %d", second, got, first+second)
	}
	monitortest.Promtool(t, text)
}
