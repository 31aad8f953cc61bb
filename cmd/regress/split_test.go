package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/flipbench/flipbench/experiment/experimenttest"
	"github.com/flipbench/flipbench/regress"
	"github.com/flipbench/flipbench/server/servertest"
)

// TestMain lets the test binary double as the fake server binaries.
func TestMain(m *testing.M) {
	servertest.RunIfServer()
	os.Exit(m.Run())
}

func TestSplit(t *testing.T) {
	var log bytes.Buffer
	fire := split(experimenttest.Settings(t, "", &log, "FAKESERVER_DELAY=10ms"))
	tests := []struct {
		name    string
		args    []string
		workers int // want every burst answered by this many workers at most
	}{
		{"the cluster", nil, 2},
		{"the fault reaches its command line", []string{"--workers=1"}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "split-1")
			splits, err := fire(context.Background(), regress.SplitRun{Dir: dir, Mode: "shared", Size: 4, Bursts: 3, Args: tt.args})
			if err != nil {
				t.Fatalf("split: %v\nlog:\n%s", err, log.String())
			}
			if len(splits) != 3 {
				t.Fatalf("%d bursts, want 3", len(splits))
			}
			for _, s := range splits {
				sum := 0
				for _, c := range s {
					sum += c
				}
				if sum != 4 || len(s) > tt.workers {
					t.Errorf("split %v: want 4 answers from at most %d workers", s, tt.workers)
				}
			}
			servertest.RequireFiles(t, filepath.Join(dir, "balance.json"), filepath.Join(dir, "balance.md"))
		})
	}
	if _, err := fire(context.Background(), regress.SplitRun{Dir: t.TempDir(), Mode: "standard", Size: 4, Bursts: 1}); err == nil {
		t.Error("want an error for a mode no balance policy serves")
	}
}
