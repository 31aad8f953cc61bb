package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	_ "image/jpeg"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/flipbench/flipbench/contract"
	"github.com/flipbench/flipbench/internal/monitor"
	"github.com/flipbench/flipbench/internal/monitor/monitortest"
	"github.com/flipbench/flipbench/internal/testproc"
	"github.com/flipbench/flipbench/server"
)

var metricsAddrRE = regexp.MustCompile(`msg="metrics serving" .*metrics_addr=(\S+)`)

func readPhoto(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile(photo)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestKillWorkerMidBurst: kill -9 of a worker while both run jobs of a
// burst loses no request; its jobs are delivered again, and the front
// replaces it.
func TestKillWorkerMidBurst(t *testing.T) {
	p, base := front(t, 2, contract.Arg(contract.FlagWorkers, "2"), contract.Arg(contract.FlagAckWait, "2s"))
	pids := p.workerPIDs()
	if len(pids) != 2 {
		t.Fatalf("want 2 workers online, got %v", pids)
	}
	ctx := t.Context()
	answers := make(chan []answer, 1)
	go func() {
		answers <- burst(20, func() answer { return do(ctx, http.MethodPost, base+contract.PathFlip, "", nil) })
	}()
	testproc.WaitFor(t, 10*time.Second, "both workers running a job", func() bool {
		h, err := health(base)
		return err == nil && h.InFlight >= 2
	})
	if err := syscall.Kill(pids[0], syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	got := <-answers
	byPID := map[string]int{}
	for i, a := range got {
		if a.err != nil || a.status != http.StatusOK {
			t.Errorf("request %d: status %d, err %v, body %s", i, a.status, a.err, a.body)
		}
		byPID[a.pid]++
	}
	t.Logf("answers by worker pid (killed %d): %v", pids[0], byPID)
	testproc.WaitFor(t, 10*time.Second, "a replacement worker", func() bool { return len(p.workerPIDs()) >= 3 })
	p.stop(t)
}

// TestSeparateWorker: a front without local workers answers 503 until a
// worker started on its own joins through -nats-listen; then that worker
// serves the front's requests.
func TestSeparateWorker(t *testing.T) {
	p, base := front(t, 0, contract.Arg(contract.FlagWorkers, "0"), contract.Arg(contract.FlagNATSListen, "127.0.0.1:0"))
	ctx := t.Context()
	none := do(ctx, http.MethodPost, base+contract.PathFlip, "", nil)
	if none.status != http.StatusServiceUnavailable || none.header.Get("Retry-After") == "" {
		t.Errorf("no worker: status %d, Retry-After %q, want 503 with one (%s)", none.status, none.header.Get("Retry-After"), none.body)
	}
	if a := do(ctx, http.MethodPost, base+contract.PathJobs, "", nil); a.status != http.StatusServiceUnavailable {
		t.Errorf("no worker, POST /jobs: status %d, want 503", a.status)
	}

	w := launch(t, nil, contract.CommandWorker, contract.Arg(contract.FlagNATS, p.natsURL(t)),
		contract.Arg(contract.FlagImage, photo), contract.Arg(contract.FlagSlots, "1"), contract.Arg(contract.FlagMetricsAddr, "127.0.0.1:0"))
	h := waitCapacity(t, base, 1)
	if h.Workers != 1 || h.Capacity != 1 {
		t.Errorf("healthz: capacity %d workers %d, want 1 and 1", h.Capacity, h.Workers)
	}
	want := strconv.Itoa(w.cmd.Process.Pid)
	for i, a := range burst(4, func() answer { return do(ctx, http.MethodPost, base+contract.PathFlip, "", nil) }) {
		if a.status != http.StatusOK || a.pid != want {
			t.Errorf("request %d: status %d from pid %s, want 200 from the worker %s (%s)", i, a.status, a.pid, want, a.body)
		}
	}
	// A worker on its own serves its own metrics.
	sub := metricsAddrRE.FindStringSubmatch(w.out.String())
	if sub == nil {
		t.Fatalf("no metrics address in the worker's log:\n%s", w.out)
	}
	var text []byte
	testproc.WaitFor(t, 10*time.Second, "the worker's ack of 4 jobs in its metrics", func() bool {
		text = testproc.Fetch(t, "http://"+sub[1]+contract.PathMetrics, nil)
		return monitortest.Count(monitortest.Histograms(testproc.Parse(t, text), monitor.MetricAckDuration, nil)) >= 4
	})
	monitortest.Check(t, testproc.Parse(t, text),
		monitortest.Want{Name: monitor.MetricJobDuration, Count: 4},
		monitortest.Want{Name: monitor.MetricQueueWait, Count: 4},
		monitortest.Want{Name: monitor.MetricAckDuration, Count: 4},
	)
	w.stop(t)
	p.stop(t)
}

// pollJob polls a job until it is done or failed and returns the states it
// went through, in order, without repeats.
func pollJob(t *testing.T, base, id string, within time.Duration) ([]string, contract.JobStatus) {
	t.Helper()
	var states []string
	var st contract.JobStatus
	testproc.WaitFor(t, within, "job "+id+" to finish", func() bool {
		a := do(t.Context(), http.MethodGet, base+contract.JobPath(id), "", nil)
		if a.status != http.StatusOK {
			t.Fatalf("GET %s: status %d (%s)", contract.JobPath(id), a.status, a.body)
		}
		if err := json.Unmarshal(a.body, &st); err != nil {
			t.Fatal(err)
		}
		if len(states) == 0 || states[len(states)-1] != st.State {
			states = append(states, st.State)
		}
		return st.State == contract.JobDone || st.State == contract.JobFailed
	})
	return states, st
}

// submit posts a job and checks the 202 answer.
func submit(t *testing.T, base, ctype string, body []byte) string {
	t.Helper()
	return checkAccepted(t, do(t.Context(), http.MethodPost, base+contract.PathJobs, ctype, body))
}

func checkAccepted(t *testing.T, a answer) string {
	t.Helper()
	var id contract.JobID
	if a.status != http.StatusAccepted {
		t.Errorf("POST /jobs: status %d (%s), want 202", a.status, a.body)
		return ""
	}
	if err := json.Unmarshal(a.body, &id); err != nil || id.ID == "" {
		t.Errorf("POST /jobs: body %s: no id (%v)", a.body, err)
		return ""
	}
	if loc := a.header.Get("Location"); loc != contract.JobPath(id.ID) {
		t.Errorf("Location %q, want %q", loc, contract.JobPath(id.ID))
	}
	return id.ID
}

// TestJobsBurst: 100 concurrent POST /jobs are all accepted within 2 s (the
// issue's bound), and all are done later.
func TestJobsBurst(t *testing.T) {
	_, base := front(t, 2, contract.Arg(contract.FlagWorkers, "2"))
	start := time.Now()
	answers := burst(100, func() answer { return do(t.Context(), http.MethodPost, base+contract.PathJobs, "", nil) })
	took := time.Since(start)
	if took > 2*time.Second {
		t.Errorf("100 POST /jobs answered in %s, want within 2s", took)
	}
	var ids []string
	for _, a := range answers {
		if id := checkAccepted(t, a); id != "" {
			ids = append(ids, id)
		}
	}
	t.Logf("100 POST /jobs answered in %s", took)
	for _, id := range ids {
		if _, st := pollJob(t, base, id, 2*time.Minute); st.State != contract.JobDone || st.PID == 0 || st.JobMS <= 0 {
			t.Errorf("job %s: %+v, want done with a pid and a job time", id, st)
		}
	}
}

// TestAsyncStatesAndExpiry follows an upload and a photo job through the
// async API, then sees their results expire.
func TestAsyncStatesAndExpiry(t *testing.T) {
	_, base := front(t, 1, contract.Arg(contract.FlagWorkers, "1"), contract.Arg(contract.FlagResultTTL, "3s"))
	ctx := t.Context()
	if a := do(ctx, http.MethodGet, base+contract.JobPath("nope"), "", nil); a.status != http.StatusNotFound {
		t.Errorf("unknown job: status %d, want 404", a.status)
	}
	in := readPhoto(t)
	upload := submit(t, base, "image/jpeg", in)
	photoJob := submit(t, base, "", nil)
	states, st := pollJob(t, base, upload, time.Minute)
	order := []string{contract.JobQueued, contract.JobRunning, contract.JobDone}
	for i, s := range states {
		if i > 0 && slices.Index(order, s) <= slices.Index(order, states[i-1]) {
			t.Errorf("states %v: out of order", states)
		}
	}
	if st.State != contract.JobDone || st.PID == 0 || st.JobMS <= 0 || st.Result != contract.JobResultPath(upload) {
		t.Fatalf("upload job: %+v", st)
	}
	res := do(ctx, http.MethodGet, base+st.Result, "", nil)
	if res.status != http.StatusOK || res.header.Get("Content-Type") != "image/jpeg" {
		t.Fatalf("result: status %d, type %q", res.status, res.header.Get("Content-Type"))
	}
	gotCfg, _, err := image.DecodeConfig(bytes.NewReader(res.body))
	wantCfg, _, _ := image.DecodeConfig(bytes.NewReader(in))
	if err != nil || gotCfg.Width != wantCfg.Width || gotCfg.Height != wantCfg.Height {
		t.Errorf("result: %dx%d (%v), want %dx%d", gotCfg.Width, gotCfg.Height, err, wantCfg.Width, wantCfg.Height)
	}
	if _, pst := pollJob(t, base, photoJob, time.Minute); pst.State != contract.JobDone || pst.Result != "" {
		t.Errorf("photo job: %+v, want done without a result image", pst)
	}
	if a := do(ctx, http.MethodGet, base+contract.JobResultPath(photoJob), "", nil); a.status != http.StatusNotFound {
		t.Errorf("photo job's result: status %d, want 404", a.status)
	}
	testproc.WaitFor(t, 15*time.Second, "the results to expire", func() bool {
		return do(ctx, http.MethodGet, base+contract.JobPath(upload), "", nil).status == http.StatusNotFound &&
			do(ctx, http.MethodGet, base+contract.JobResultPath(upload), "", nil).status == http.StatusNotFound
	})
	// An expired id, a neighbour of a real one, and ids of any length and
	// alphabet all get the same 404.
	unknown := do(ctx, http.MethodGet, base+contract.JobPath("nope"), "", nil)
	neighbour := upload[:len(upload)-2] + map[bool]string{true: "AA", false: "BA"}[upload[len(upload)-2:] != "AA"]
	for _, id := range []string{upload, neighbour, strings.Repeat("A", 22), strings.Repeat("x", 3000), "%00", "%E2%98%83", "..%2F..", "*", ">"} {
		for _, path := range []string{contract.JobPath(id), contract.JobResultPath(id)} {
			if a := do(ctx, http.MethodGet, base+path, "", nil); a.status != http.StatusNotFound || string(a.body) != string(unknown.body) {
				t.Errorf("GET %.60s: status %d, body %s; want 404 and %s", path, a.status, a.body, unknown.body)
			}
		}
	}
}

// TestBadInputSameAsOtherServers: every bad request gets from the front, on
// /flip and /jobs, the status a local server gives on /flip.
func TestBadInputSameAsOtherServers(t *testing.T) {
	_, base := front(t, 1, contract.Arg(contract.FlagWorkers, "1"))
	local, err := server.New(server.Config{Image: photo, Capacity: 1, Worker: -1, TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { local.Close() })
	ts := httptest.NewServer(local.Handler())
	t.Cleanup(ts.Close)

	bad := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "bad", name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	pic := readPhoto(t)
	tests := []struct {
		name, ctype string
		body        []byte
	}{
		{"empty.jpg", "image/jpeg", bad("empty.jpg")},
		{"text.jpg", "image/jpeg", bad("text.jpg")},
		{"text as text/plain", "text/plain", bad("text.jpg")},
		{"no Content-Type", "", bad("text.jpg")},
		{"truncated.jpg (fails in the worker)", "image/jpeg", bad("truncated.jpg")},
		{"huge-header.png", "image/png", bad("huge-header.png")},
	}
	ctx := t.Context()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := do(ctx, http.MethodPost, ts.URL+contract.PathFlip, tt.ctype, tt.body).status
			if want < 400 {
				t.Fatalf("local server: status %d, want an error", want)
			}
			if got := do(ctx, http.MethodPost, base+contract.PathFlip, tt.ctype, tt.body); got.status != want {
				t.Errorf("front /flip: status %d (%s), local server %d", got.status, got.body, want)
			}
			got := do(ctx, http.MethodPost, base+contract.PathJobs, tt.ctype, tt.body)
			if got.status == http.StatusAccepted {
				// Found bad only by the worker: the job fails with the status.
				var id contract.JobID
				_ = json.Unmarshal(got.body, &id)
				_, st := pollJob(t, base, id.ID, time.Minute)
				got.status = st.Status
			}
			if got.status != want {
				t.Errorf("front /jobs: status %d (%s), local server %d", got.status, got.body, want)
			}
		})
	}
	if a := do(ctx, http.MethodGet, base+contract.PathFlip, "", nil); a.status != http.StatusMethodNotAllowed {
		t.Errorf("GET /flip: status %d, want 405", a.status)
	}
	if a := do(context.Background(), http.MethodPost, base+contract.PathFlip, "image/jpeg", pic); a.status != http.StatusOK {
		t.Errorf("a good upload after the bad ones: status %d (%s)", a.status, a.body)
	}
}

// TestFrontMetrics checks the front's /metrics: the time to result of POST
// /flip, its jobs' state transitions, and its local workers' job, wait and
// ack histograms and redeliveries by worker index; promtool takes it all.
func TestFrontMetrics(t *testing.T) {
	p, base := front(t, 2, contract.Arg(contract.FlagWorkers, "2"))
	const flips = 3
	for i := range flips {
		if a := do(t.Context(), http.MethodPost, base+contract.PathFlip, "", nil); a.status != http.StatusOK {
			t.Fatalf("POST /flip %d: status %d (%s)", i, a.status, a.body)
		}
	}
	pollJob(t, base, submit(t, base, "", nil), 30*time.Second)
	const jobs = flips + 1

	var text []byte
	testproc.WaitFor(t, 10*time.Second, fmt.Sprintf("the workers' report of %d jobs", jobs), func() bool {
		text = testproc.Fetch(t, base+contract.PathMetrics, nil)
		return monitortest.Count(monitortest.Histograms(testproc.Parse(t, text), monitor.MetricAckDuration, nil)) >= jobs
	})
	fams := testproc.Parse(t, text)
	monitortest.Check(t, fams,
		monitortest.Want{Name: monitor.MetricRequestDuration, Labels: map[string]string{monitor.LabelRoute: contract.PathFlip, monitor.LabelCode: "200"}, Count: flips},
		monitortest.Want{Name: monitor.MetricRequestDuration, Labels: map[string]string{monitor.LabelRoute: contract.PathJobs, monitor.LabelCode: "202"}, Count: 1},
		monitortest.Want{Name: monitor.MetricJobDuration, Count: jobs},
		monitortest.Want{Name: monitor.MetricQueueWait, Count: jobs},
		monitortest.Want{Name: monitor.MetricAckDuration, Count: jobs},
	)
	for _, m := range fams[monitor.MetricJobDuration].GetMetric() {
		if w := testproc.Label(m, monitor.LabelWorker); w != "0" && w != "1" {
			t.Errorf("%s has worker %q, want a local worker's index", monitor.MetricJobDuration, w)
		}
	}
	states := map[string]float64{}
	for _, m := range fams[monitor.MetricTransitions].GetMetric() {
		states[testproc.Label(m, monitor.LabelState)] = testproc.Value(m)
	}
	want := map[string]float64{contract.JobQueued: jobs, contract.JobRunning: jobs, contract.JobDone: jobs, contract.JobFailed: 0}
	for s, n := range want {
		if states[s] != n {
			t.Errorf("%s: %v, want %v", monitor.MetricTransitions, states, want)
			break
		}
	}
	var redelivered float64
	f := fams[monitor.MetricRedeliveries]
	for _, m := range f.GetMetric() {
		redelivered += testproc.Value(m)
	}
	if f == nil || redelivered != 0 {
		t.Errorf("%s: %v, want series summing to 0", monitor.MetricRedeliveries, f)
	}
	p.stop(t)
	monitortest.Promtool(t, text)
}
