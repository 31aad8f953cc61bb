package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
)

func TestRunBadInput(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "none.json")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown flag", []string{"-nope"}, "flag provided but not defined"},
		{"argument", []string{"extra"}, "unexpected arguments"},
		{"runs", []string{"-runs", "0"}, "-runs and -count"},
		{"burst", []string{"-burst", "1"}, "-burst, -speedup-burst, -small-burst and -rss-burst"},
		{"cores", []string{"-cores", "0"}, "-cores"},
		{"split burst", []string{"-split-burst", "1"}, "-split-burst must be at least 2"},
		{"split bursts", []string{"-split-bursts", "0"}, "-split-bursts at least 1"},
		{"rate arrivals", []string{"-rate-arrivals", "1"}, "-rate-arrivals must be 2 to"},
		{"rate load", []string{"-rate-load", "0"}, "-rate-load must be above 0"},
		{"no baseline", []string{"-baseline", missing}, "make baseline writes one"},
		{"unknown metric", []string{"-only", "job_time,cluster_even_split_share"}, `unknown metric "job_time"`},
		{"only and write with no baseline", []string{"-only", "cluster_even_split_share", "-write-baseline", "-baseline", missing}, "make baseline writes one"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if got := run(context.Background(), tt.args, &stdout, &stderr); got != exitUsage {
				t.Errorf("exit code: got %d, want %d", got, exitUsage)
			}
			if !strings.Contains(stderr.String(), tt.want) {
				t.Errorf("stderr %q lacks %q", stderr.String(), tt.want)
			}
		})
	}
}

func TestRunHelp(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if got := run(context.Background(), []string{"-h"}, &stdout, &stderr); got != exitPass {
		t.Errorf("exit code: got %d, want %d", got, exitPass)
	}
	for _, want := range []string{"Usage: regress", "standard_efficiency", "-baseline"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("help lacks %q", want)
		}
	}
}
