package trial

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/flipbench/flipbench/server/servertest"
)

func TestModeCommand(t *testing.T) {
	bin := servertest.LinkBin(t)
	place := Place{BinDir: bin, NodeApp: t.TempDir(), Cores: 4}
	for _, tc := range []struct {
		mode, bin, args string
	}{
		{"standard", "standard", "--procs=1"},
		{"threaded", "standard", "--procs=4"},
		{"clustered", "clustered", "--workers=4 --balance=reuseport"},
		{"shared", "clustered", "--workers=4 --balance=shared"},
		{"rr", "clustered", "--workers=4 --balance=rr"},
		{"none", "clustered", "--workers=4 --balance=none"},
	} {
		m, err := LookupMode(tc.mode)
		if err != nil {
			t.Fatal(err)
		}
		s, err := m.Command(place)
		if err != nil {
			t.Fatalf("%s: %v", tc.mode, err)
		}
		if s.Binary != filepath.Join(bin, tc.bin) || strings.Join(s.Args, " ") != tc.args || s.Family != FamilyGo {
			t.Errorf("%s: %+v, want %s %s", tc.mode, s, tc.bin, tc.args)
		}
	}
	if _, err := LookupMode("forked"); err == nil {
		t.Error("LookupMode(forked) succeeded")
	}
	node, _ := LookupMode("node-cluster")
	if _, err := node.Command(place); err == nil {
		t.Error("node-cluster runs without its node_modules")
	} else if !strings.Contains(err.Error(), "node_modules") && !strings.Contains(err.Error(), "not on the PATH") {
		t.Errorf("node-cluster: %v, want a reason", err)
	}
	// Every default mode is a Go mode; every mode has a program and a line of text.
	for _, m := range Modes() {
		if len(m.CommandLine) == 0 || m.About == "" {
			t.Errorf("mode %s is incomplete: %+v", m.Name, m)
		}
		if m.Default && m.Family != FamilyGo {
			t.Errorf("mode %s runs by default but needs %s", m.Name, m.Family)
		}
	}
}

func TestParseModes(t *testing.T) {
	for _, tc := range []struct {
		in  string
		n   int
		err string
	}{
		{"standard,clustered,threaded,shared", 4, ""},
		{"threaded,node-cluster", 2, ""},
		{"rr,none", 2, ""},
		{"standard,forked", 0, `unknown mode "forked"`},
		{"standard,standard", 0, "twice"},
		{" , ", 0, "no modes"},
	} {
		got, err := ParseModes(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseModes(%q) err = %v, want %q", tc.in, err, tc.err)
			}
		} else if err != nil || len(got) != tc.n {
			t.Errorf("ParseModes(%q) = %v, %v; want %d modes", tc.in, got, err, tc.n)
		}
	}
}
