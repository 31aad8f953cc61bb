package loadtest

import (
	"context"
	"encoding/json"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/flipbench/flipbench/contract"
	"github.com/flipbench/flipbench/internal/syncbuf"
	"github.com/flipbench/flipbench/internal/testproc"
)

// startStandard builds and starts cmd/standard (one job slot) on the 1 MP
// photo and returns its /flip URL; the server is killed when the test ends.
func startStandard(t *testing.T) string {
	t.Helper()
	bin, cleanup, err := testproc.Build("../cmd/standard", "standard")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cleanup)
	dir := t.TempDir()
	addrFile := filepath.Join(dir, "addr")
	cmd := exec.Command(bin, contract.Arg(contract.FlagAddr, "127.0.0.1:0"), contract.Arg(contract.FlagAddrFile, addrFile),
		contract.Arg(contract.FlagImage, filepath.Join("..", "testdata", "photo-1mp.jpg")), contract.Arg(contract.FlagTempDir, dir))
	out := &syncbuf.Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		if t.Failed() {
			t.Logf("server output:\n%s", out)
		}
	})
	var addr string
	testproc.WaitFor(t, 30*time.Second, "the server's address file", func() bool {
		addr, err = contract.ReadAddrFile(addrFile)
		return err == nil
	})
	return "http://" + addr + "/flip"
}

// jobTime sends n requests one after another and returns the server's job
// time of the last: S once the server is warm.
func jobTime(t *testing.T, url string, n int) time.Duration {
	t.Helper()
	var s time.Duration
	for range n {
		resp, err := http.Post(url, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		d, ok := HeaderDuration(resp.Header, contract.HeaderJobTime)
		if resp.StatusCode != http.StatusOK || !ok {
			t.Fatalf("warm-up: status %d, job time %q", resp.StatusCode, resp.Header.Get(contract.HeaderJobTime))
		}
		s = d
	}
	return s
}

// TestOpenAttackOnStandard runs a short constant and a short Poisson load
// (4 arrivals/s for 3 s, below one core's capacity on the 1 MP photo) at a
// real standard server.
func TestOpenAttackOnStandard(t *testing.T) {
	url := startStandard(t)
	s := jobTime(t, url, 3)
	for _, tc := range []struct {
		kind string
		seed uint64
	}{{ArrivalsConstant, 0}, {ArrivalsPoisson, 42}} {
		sch, err := NewSchedule(tc.kind, 4, 3*time.Second, tc.seed)
		if err != nil {
			t.Fatal(err)
		}
		run, err := OpenAttack(context.Background(), post(url), Open{Schedule: sch}, WithTimeout(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		n := len(sch.Offsets)
		m, err := ComputeOpen(run, OpenParams{Capacity: 1, S: s, Timeout: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		if m.Scheduled != n || m.Requests != n || m.Successes != n || m.Shed != 0 || m.Failed != 0 {
			t.Errorf("%s: scheduled %d, sent %d, ok %d, shed %d, failed %d; want every one of %d answered (codes %v)",
				tc.kind, m.Scheduled, m.Requests, m.Successes, m.Shed, m.Failed, n, m.StatusCodes)
		}
		for i := range run.Results {
			r := &run.Results[i]
			due, _ := run.Scheduled(r)
			if fromSchedule := r.End().Sub(due); fromSchedule < r.Latency-time.Microsecond {
				t.Errorf("%s: arrival %d: latency from its schedule %s < from its send %s", tc.kind, r.Seq, fromSchedule, r.Latency)
			}
		}
		if m.QueueTime.Count != n {
			t.Errorf("%s: %d queue times from the server, want %d", tc.kind, m.QueueTime.Count, n)
		}
		// The ideal: every arrival, none faster than one job.
		if m.Ideal.Count != n || m.Ideal.Min.D() < s || m.P50Ratio <= 0 || m.P99Ratio <= 0 {
			t.Errorf("%s: ideal %+v (S %s), ratios %g %g", tc.kind, m.Ideal, s, m.P50Ratio, m.P99Ratio)
		}
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		if hasSeed := strings.Contains(string(b), `"seed":42`); hasSeed != (tc.kind == ArrivalsPoisson) {
			t.Errorf("%s: seed in the metrics %v: %s", tc.kind, hasSeed, b)
		}
		t.Logf("%s: %d arrivals, S %s, p50 %s p99 %s (from send %s %s), ideal %s %s, max lag %s, goodput %.2f/s",
			tc.kind, n, s, m.Latency.Median, m.Latency.P99, m.LatencyFromSend.Median, m.LatencyFromSend.P99,
			m.Ideal.Median, m.Ideal.P99, m.Lag.Max, m.Goodput)
	}
}
