package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flipbench/flipbench/experiment/balance"
	"github.com/flipbench/flipbench/server/servertest"
)

func TestBalanceCommand(t *testing.T) {
	t.Setenv("FAKESERVER_DELAY", "10ms")
	bin, img := servertest.LinkBin(t), servertest.Photo(t)
	out := filepath.Join(t.TempDir(), "balance")
	code, stdout, stderr := runCLI(t, "balance", "-bin", bin, "-image", img, "-out", out,
		"-runs", "2", "-sizes", "4", "-warmups", "1", "-cpus", "2")
	if code != exitOK {
		t.Fatalf("balance: exit %d\n%s", code, stderr)
	}
	for _, want := range []string{"reuseport n=4 run 2: 4/4 ok", "rr n=4 run 2: 4/4 ok", "shared: stopped cleanly"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("balance log lacks %q:\n%s", want, stderr)
		}
	}
	if !strings.Contains(stdout, "| shared | shared | 4 | 2 | 8/8 |") {
		t.Errorf("balance did not print its summary:\n%s", stdout)
	}
	run, err := balance.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(run.Policies) != 4 || len(run.Policies[0].Trials) != 2 || run.Policies[0].Balance != "reuseport" {
		t.Errorf("balance.json policies %+v", run.Policies)
	}
}

func TestBenchHelloCommand(t *testing.T) {
	bin, img := servertest.LinkBin(t), servertest.Photo(t)
	out := filepath.Join(t.TempDir(), "hello")
	code, stdout, stderr := runCLI(t, "bench", "-workload", "hello", "-bin", bin, "-image", img, "-out", out,
		"-modes", "standard", "-rate-start", "20", "-rate-max", "50", "-step", "500ms", "-p99-bound", "1s", "-cpus", "2")
	if code != exitOK {
		t.Fatalf("bench -workload hello: exit %d\n%s", code, stderr)
	}
	if !strings.Contains(stdout, "| standard | 40 |") || !strings.Contains(stderr, "standard 40 req/s (try 1):") {
		t.Errorf("want standard's highest rate 40 in the summary:\n%s\nlog:\n%s", stdout, stderr)
	}
	if _, err := os.Stat(filepath.Join(out, "standard", "rate-40.bin")); err != nil {
		t.Errorf("no step files: %v", err)
	}
}
