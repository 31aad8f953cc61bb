package trial

import (
	"slices"
	"strings"
	"testing"
)

// foreignMode is a valid plain mode that the bad inputs below break one
// field of.
const foreignMode = `baseline = "app"
[modes.app]
command = ["app", "--listen={addr}"]
ready = "/"
capacity = 2
`

func TestParseModeFileErrors(t *testing.T) {
	for _, tc := range []struct{ name, file, want string }{
		{"malformed", "baseline = \n", "f.toml: line 1:"},
		{"unknown top key", "basline = \"app\"\n" + foreignMode, "f.toml: basline: unknown key"},
		{"unknown mode key", foreignMode + "comand = [\"x\"]\n", "mode app: comand: unknown key"},
		{"unknown request key", foreignMode + "request = {methd = \"GET\"}\n", "mode app: request.methd: unknown key"},
		{"no command", "baseline = \"app\"\n[modes.app]\nready = \"/\"\n", "mode app: command: missing"},
		{"no port placeholder", `baseline = "app"
[modes.app]
command = ["app"]
capacity = 1
`, "mode app: command: no {port} or {addr} placeholder and no port_env"},
		{"unknown placeholder", strings.Replace(foreignMode, "{addr}", "{adr}", 1), "mode app: command: unknown placeholder {adr}"},
		{"contract with port", `baseline = "app"
[modes.app]
contract = true
command = ["app", "{port}"]
`, "mode app: command: unknown placeholder {port}"},
		{"two modes one name", foreignMode + `[modes.app-w]
command = ["app", "{addr}", "{w}"]
capacity = 1
sweep = {w = [1, 2]}
sweep_name = "app"
`, "sweep_name: \"app\" lacks {w}"},
		{"sweep names clash", foreignMode + `[modes.app-w1]
command = ["app", "{addr}"]
capacity = 1
[modes.other]
command = ["app", "{addr}", "{w}"]
capacity = 1
sweep = {w = [1, 2]}
sweep_name = "app-w{w}"
`, "mode app-w1: name: already the name of a mode of [modes.app-w1]"},
		{"no baseline", strings.Replace(foreignMode, `baseline = "app"`, "", 1), "f.toml: baseline: missing"},
		{"baseline unknown", strings.Replace(foreignMode, `baseline = "app"`, `baseline = "ap"`, 1), `baseline: "ap" is not a mode`},
		{"no modes", `baseline = "app"`, "no [modes.NAME] table"},
		{"capacity zero", strings.Replace(foreignMode, "capacity = 2", "capacity = 0", 1), "mode app: capacity: 0 is not a positive number"},
		{"capacity text", strings.Replace(foreignMode, "capacity = 2", `capacity = "two"`, 1), `mode app: capacity: "two" is not a positive number`},
		{"capacity float", strings.Replace(foreignMode, "capacity = 2", "capacity = 1.5", 1), "mode app: capacity: 1.5 is not a positive number"},
		{"capacity tcp", strings.Replace(strings.Replace(foreignMode, "capacity = 2", "", 1), `ready = "/"`, `ready = "tcp"`, 1), "mode app: capacity: missing: with ready = tcp"},
		{"sweep value not positive", `baseline = "app-w1"
[modes.app-w]
command = ["app", "{addr}", "{w}"]
capacity = "{w}"
sweep = {w = [1, 0]}
sweep_name = "app-w{w}"
`, `mode app-w0: capacity: "0" is not a positive number`},
		{"sweep unused", foreignMode + "sweep = {w = [1]}\n", "mode app: sweep: {w} is used in neither command nor env"},
		{"ready not a path", strings.Replace(foreignMode, `ready = "/"`, `ready = "healthz"`, 1), "mode app: ready: \"healthz\""},
		{"env not kv", foreignMode + "env = [\"PORT\"]\n", "mode app: env: \"PORT\" is not KEY=VALUE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseModeFile("f.toml", []byte(tc.file))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error is not one line: %q", err)
			}
		})
	}
}

func TestParseModeFileSweep(t *testing.T) {
	f, err := ParseModeFile("f.toml", []byte(foreignMode+`[modes.app-w]
about = "app with {w} workers"
command = ["app", "--listen={addr}", "--workers={w}"]
env = ["W={w}"]
capacity = "{w}"
sweep = {w = [1, 3]}
`))
	if err != nil {
		t.Fatal(err)
	}
	if got := f.AllNames(); !slices.Equal(got, []string{"app", "app-w-w1", "app-w-w3"}) {
		t.Fatalf("names %q", got)
	}
	if got := f.Names(); !slices.Equal(got, []string{"app"}) {
		t.Errorf("table names %q, want sweep values left out", got)
	}
	if got, err := f.Sweeps("app-w"); err != nil || len(got) != 2 {
		t.Errorf("Sweeps = %q, %v", got, err)
	}
	m, _ := f.Lookup("app-w-w3")
	s, err := m.Command(Place{Cores: 2})
	if err == nil {
		t.Fatalf("%s runs without app on the PATH", m.Name)
	}
	if !slices.Equal(s.Args, []string{"--listen={addr}", "--workers=3"}) || !slices.Equal(s.Env, []string{"W=3"}) ||
		s.Capacity != 3 || !s.Plain || s.Sweep == nil || s.Sweep.Value != 3 || m.About != "app with 3 workers" {
		t.Errorf("spec %+v, mode %+v", s, m)
	}
}

// TestBuiltinModes: the embedded file parses, standard is its baseline, and
// the worker sweeps are there but not in the default set.
func TestBuiltinModes(t *testing.T) {
	f := Builtin()
	if f.Baseline != "standard" {
		t.Errorf("baseline %q", f.Baseline)
	}
	if got := DefaultModes(); !slices.Equal(got, []string{"standard", "threaded", "clustered", "shared"}) {
		t.Errorf("default modes %q", got)
	}
	for _, sw := range []string{"shared-w", "rr-w", "clustered-w"} {
		names, err := f.Sweeps(sw)
		if err != nil || len(names) != 4 {
			t.Errorf("sweep %s: %q, %v", sw, names, err)
		}
	}
	m, err := LookupMode("rr-w3")
	if err != nil {
		t.Fatal(err)
	}
	s, _ := m.Command(Place{BinDir: "bin", Cores: 2})
	if s.Binary != "bin/clustered" || !slices.Equal(s.Args, []string{"--workers=3", "--balance=rr"}) || s.Plain || s.Ready != "" {
		t.Errorf("rr-w3: %+v", s)
	}
}

// TestExampleModeFiles: the shipped examples parse, with their sweeps.
func TestExampleModeFiles(t *testing.T) {
	f, err := ReadModeFile("../examples/pm2.toml")
	if err != nil {
		t.Fatal(err)
	}
	if f.Baseline != "node-standard" || !slices.Equal(f.Defaults(), []string{"node-standard", "node-cluster", "pm2"}) {
		t.Errorf("baseline %q, defaults %q", f.Baseline, f.Defaults())
	}
	if names, err := f.Sweeps("pm2-i"); err != nil || len(names) != 4 {
		t.Errorf("pm2-i sweep: %q, %v", names, err)
	}
}
