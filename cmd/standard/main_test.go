package main

import (
	"errors"
	"flag"
	"strings"
	"testing"
)

func TestRunBadInput(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"procs", []string{"-procs", "0"}, "-procs 0"},
		{"argument", []string{"extra"}, "unexpected arguments"},
		{"log format", []string{"-log-format", "xml", "-image", "../../testdata/photo-1mp.jpg"}, "log format"},
		{"missing image", []string{"-image", "../../testdata/nope.jpg", "-tmpdir", "TMP"}, "no such file"},
		{"text image", []string{"-image", "../../testdata/bad/text.jpg", "-tmpdir", "TMP"}, "unsupported image format"},
		{"no default image here", []string{"-tmpdir", "TMP"}, "give -image PATH"},
		{"bad address", []string{"-image", "../../testdata/photo-1mp.jpg", "-tmpdir", "TMP", "-addr", "256.0.0.1:1"}, "listen"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := make([]string, len(tt.args))
			for i, a := range tt.args {
				args[i] = strings.ReplaceAll(a, "TMP", t.TempDir())
			}
			err := run(args)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestRunHelp(t *testing.T) {
	if err := run([]string{"-h"}); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("got %v, want flag.ErrHelp", err)
	}
}
