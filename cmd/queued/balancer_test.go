package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"net/http"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/flipbench/flipbench/contract"
	"github.com/flipbench/flipbench/internal/testproc"
)

// TestBalancer runs deploy/haproxy.cfg in front of two fronts on one NATS
// server: POST /jobs lands on both, every GET /jobs/{id} is answered
// whichever front gets it, and after kill -9 of one front its accepted jobs
// finish and are read through the other.
func TestBalancer(t *testing.T) {
	haproxy, err := exec.LookPath("haproxy")
	if err != nil {
		t.Skip("haproxy is not on the PATH (apt-get install haproxy; .ci/run does)")
	}
	c := startCluster(t, 1)
	args := append(c.auth(), contract.Arg(contract.FlagNATS, c.url()), contract.Arg(contract.FlagWorkers, "1"),
		contract.Arg(contract.FlagAckWait, "2s"))
	fronts := make([]*proc, 2)
	env := []string{}
	for i := range fronts {
		var base string
		fronts[i], base = front(t, i+1, args...)
		env = append(env, fmt.Sprintf("FLIP_FRONT%d=%s", i+1, base[len("http://"):]))
	}
	listen := fmt.Sprintf("127.0.0.1:%d", freePorts(t, 1)[0])
	startProc(t, append(env, "FLIP_LISTEN="+listen), haproxy, "-db", "-f", filepath.Join("..", "..", "deploy", "haproxy.cfg"))
	lb := "http://" + listen
	testproc.WaitFor(t, 15*time.Second, "haproxy serving both fronts", func() bool {
		seen := map[string]bool{}
		for range 4 {
			a := do(t.Context(), http.MethodGet, lb+contract.PathHealth, "", nil)
			if a.err != nil || a.status != http.StatusOK {
				return false
			}
			seen[a.pid] = true
		}
		return len(seen) == 2
	})

	var img bytes.Buffer
	if err := png.Encode(&img, image.NewGray(image.Rect(0, 0, 8, 4))); err != nil {
		t.Fatal(err)
	}
	ids := map[string]int{} // id -> pid of the front that accepted it
	for i := range 20 {
		ctype, body := "", []byte(nil)
		if i < 4 {
			ctype, body = "image/png", img.Bytes()
		}
		a := do(t.Context(), http.MethodPost, lb+contract.PathJobs, ctype, body)
		pid, _ := strconv.Atoi(a.pid)
		ids[checkAccepted(t, a)] = pid
	}
	byFront := map[int]int{}
	for id, pid := range ids {
		byFront[pid]++
		if a := do(t.Context(), http.MethodGet, lb+contract.JobPath(id), "", nil); a.status != http.StatusOK {
			t.Errorf("GET /jobs/%s through the balancer: %d %s", id, a.status, a.body)
		}
	}
	killed := fronts[0].cmd.Process.Pid
	if byFront[killed] == 0 || byFront[fronts[1].cmd.Process.Pid] == 0 {
		t.Fatalf("POST /jobs did not land on both fronts: %v", byFront)
	}
	if err := fronts[0].cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	t.Logf("jobs by front %v; killed %d", byFront, killed)

	for id, pid := range ids {
		var st contract.JobStatus
		testproc.WaitFor(t, 30*time.Second, "job "+id+" done", func() bool {
			a := do(t.Context(), http.MethodGet, lb+contract.JobPath(id), "", nil)
			if a.status != http.StatusOK {
				t.Fatalf("GET /jobs/%s (accepted by %d) after the kill: %d %s", id, pid, a.status, a.body)
			}
			return json.Unmarshal(a.body, &st) == nil && st.State == contract.JobDone
		})
		if st.Result != "" {
			if a := do(t.Context(), http.MethodGet, lb+st.Result, "", nil); a.status != http.StatusOK || len(a.body) == 0 {
				t.Errorf("result of %s (accepted by %d): %d", id, pid, a.status)
			}
		}
	}
}
