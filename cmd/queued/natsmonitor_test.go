package main

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/flipbench/flipbench/contract"
	"github.com/flipbench/flipbench/internal/testproc"
	"github.com/flipbench/flipbench/queue"
)

var natsMonitorRE = regexp.MustCompile(`msg="nats monitoring" .*url=(\S+)`)

// TestNATSMonitor: -nats-monitor serves the embedded server's /varz and
// /jsz, where the job stream shows; without it the log names none.
func TestNATSMonitor(t *testing.T) {
	p, _ := front(t, 1, contract.Arg(contract.FlagWorkers, "1"), contract.Arg(contract.FlagNATSMonitor, "127.0.0.1:0"))
	var url string
	testproc.WaitFor(t, 10*time.Second, "the monitoring url in the log", func() bool {
		if m := natsMonitorRE.FindStringSubmatch(p.out.String()); m != nil {
			url = m[1]
		}
		return url != ""
	})
	if !strings.HasPrefix(url, "http://127.0.0.1:") {
		t.Errorf("monitoring url %q, want loopback", url)
	}
	get := func(path string) map[string]any {
		t.Helper()
		c := &http.Client{Timeout: 10 * time.Second}
		resp, err := c.Get(url + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var v map[string]any
		if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&v) != nil {
			t.Fatalf("GET %s: status %d or not JSON", path, resp.StatusCode)
		}
		return v
	}
	if v := get("/varz"); v["server_name"] != "flipbench-front" {
		t.Errorf("/varz server_name %v, want flipbench-front", v["server_name"])
	}
	jsz, _ := json.Marshal(get("/jsz?streams=true"))
	if !strings.Contains(string(jsz), queue.StreamName) {
		t.Errorf("/jsz?streams=true does not name the stream %s: %s", queue.StreamName, jsz)
	}
	p.stop(t)

	plain, _ := front(t, 1, contract.Arg(contract.FlagWorkers, "1"))
	if natsMonitorRE.MatchString(plain.out.String()) {
		t.Error("a front without -nats-monitor logs a monitoring url")
	}
	plain.stop(t)
}
