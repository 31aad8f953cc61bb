package trial

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/flipbench/flipbench/runfolder"
)

// Family groups modes by what serves them (see package runfolder).
type Family = runfolder.Family

// Families of modes.
const (
	FamilyGo   Family = "go"   // the Go binaries in the bin folder
	FamilyNode Family = "node" // the article's Koa + Jimp app on Node
)

// ReadyTCP is the readiness check that only connects.
const ReadyTCP = "tcp"

// defaultReady is the readiness path when a mode names none.
const defaultReady = "/healthz"

// Place is where a run finds its servers and what it runs them on.
type Place struct {
	BinDir  string // the Go server binaries
	NodeApp string // the article's Node app (its folder, with node_modules)
	Cores   int    // the core count modes size themselves by
	// Modes is the modes file names are looked up in; nil is Builtin().
	Modes *ModeFile
}

// modes is p's modes file.
func (p Place) modes() *ModeFile {
	if p.Modes == nil {
		return Builtin()
	}
	return p.Modes
}

// Mode is one way of serving the app, as a modes file gives it (one value
// of a sweep is a mode of its own). How many jobs a contract server runs at
// once is read from its /healthz, never from its flags.
type Mode struct {
	Name    string
	Family  Family
	About   string // one line for -h and the summary
	Default bool   // run when no mode is named
	// Command is the program and its arguments, with placeholders; a
	// program without a slash is looked up on the PATH.
	CommandLine []string
	Env         []string
	Dir         string
	Contract    bool // takes flipbench's server flags and serves /healthz
	PortEnv     string
	Ready       string // an HTTP path, or ReadyTCP
	// Missing says how to get a program or need that is missing.
	Missing      string
	NeedPrograms []string
	NeedFiles    []string
	Request      *runfolder.Request
	Sweep        *runfolder.SweepPoint // nil unless the mode is a sweep's value
	capacity     string                // from the file, with placeholders; empty: from Ready's answer
	vars         map[string]string     // the sweep's value
}

// Modes returns the built-in modes, in report order, leaving out sweep
// values.
func Modes() []Mode { return Builtin().Table() }

// ModeNames returns the names of the built-in modes, sweep values left out.
func ModeNames() []string { return Builtin().Names() }

// DefaultModes returns the names of the built-in modes run when none are
// named.
func DefaultModes() []string { return Builtin().Defaults() }

// LookupMode returns the built-in mode called name.
func LookupMode(name string) (Mode, error) { return Builtin().Lookup(name) }

// ParseModes reads a comma-separated list of built-in mode names (see
// ModeFile.Parse).
func ParseModes(s string) ([]string, error) { return Builtin().Parse(s) }

// ModeOrder sorts mode names in the built-in report order, unknown names
// last by name.
func ModeOrder(a, b string) int { return Builtin().Order(a, b) }

// Table returns f's modes that are not a sweep's values, in file order.
func (f *ModeFile) Table() []Mode {
	return slices.DeleteFunc(slices.Clone(f.Modes), func(m Mode) bool { return m.Sweep != nil })
}

// Names returns the names of f.Table().
func (f *ModeFile) Names() []string {
	var names []string
	for _, m := range f.Table() {
		names = append(names, m.Name)
	}
	return names
}

// AllNames returns the names of every mode of f, sweep values too, in
// report order.
func (f *ModeFile) AllNames() []string {
	names := make([]string, len(f.Modes))
	for i, m := range f.Modes {
		names[i] = m.Name
	}
	return names
}

// Defaults returns the names of f's modes run when none are named.
func (f *ModeFile) Defaults() []string {
	var names []string
	for _, m := range f.Modes {
		if m.Default {
			names = append(names, m.Name)
		}
	}
	return names
}

// Sweeps returns the names of the modes of the sweep of table of, in order.
func (f *ModeFile) Sweeps(of string) ([]string, error) {
	var names []string
	for _, m := range f.Modes {
		if m.Sweep != nil && m.Sweep.Of == of {
			names = append(names, m.Name)
		}
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("%s has no sweep %q", f.Name, of)
	}
	return names, nil
}

// Lookup returns f's mode called name.
func (f *ModeFile) Lookup(name string) (Mode, error) {
	for _, m := range f.Modes {
		if m.Name == name {
			return m, nil
		}
	}
	return Mode{}, fmt.Errorf("unknown mode %q (known: %s)", name, strings.Join(f.Names(), ", "))
}

// Parse reads a comma-separated list of f's mode names, refusing unknown
// names, duplicates and an empty list.
func (f *ModeFile) Parse(s string) ([]string, error) {
	var modes []string
	for name := range strings.SplitSeq(s, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		if _, err := f.Lookup(name); err != nil {
			return nil, err
		}
		if slices.Contains(modes, name) {
			return nil, fmt.Errorf("mode %q listed twice", name)
		}
		modes = append(modes, name)
	}
	if len(modes) == 0 {
		return nil, fmt.Errorf("no modes in %q (known: %s)", s, strings.Join(f.Names(), ", "))
	}
	return modes, nil
}

// Order sorts mode names in f's order, unknown names last by name.
func (f *ModeFile) Order(a, b string) int { return runfolder.OrderBy(f.AllNames())(a, b) }

// Spec is a mode resolved for one run (see package runfolder).
type Spec = runfolder.Spec

// Command returns the mode's program (resolved) and arguments in p, and
// says why the mode cannot run there: a program that is missing, or a need
// that is not met. {port} and {addr} stay for the start to fill in.
func (m Mode) Command(p Place) (Spec, error) {
	vars := map[string]string{phBin: p.BinDir, phNodeApp: p.NodeApp, phCores: strconv.Itoa(p.Cores)}
	for k, v := range m.vars {
		vars[k] = v
	}
	cmdline := expandAll(m.CommandLine, vars)
	s := Spec{Name: m.Name, Family: m.Family, Binary: cmdline[0], Args: cmdline[1:], Env: expandAll(m.Env, vars),
		Dir: expand(m.Dir, vars), Plain: !m.Contract, PortEnv: m.PortEnv, Request: m.Request, Sweep: m.Sweep}
	if m.Ready != defaultReady || !m.Contract {
		s.Ready = m.Ready
	}
	if m.capacity != "" {
		n, err := positive(expand(m.capacity, vars))
		if err != nil {
			return s, fmt.Errorf("capacity: %w", err)
		}
		s.Capacity = n
	}
	hint := cmp.Or(m.Missing, "build it with make build")
	if strings.Contains(s.Binary, "/") {
		path := s.Binary
		if s.Dir != "" && !filepath.IsAbs(path) {
			path = filepath.Join(s.Dir, path)
		}
		fi, err := os.Stat(path)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return s, fmt.Errorf("command: %s not found (%s)", path, hint)
		case err != nil:
			return s, fmt.Errorf("command: %w", err)
		case fi.IsDir():
			return s, fmt.Errorf("command: %s is a folder, not a server binary", path)
		}
	} else {
		path, err := exec.LookPath(s.Binary)
		if err != nil {
			return s, fmt.Errorf("command: %s is not on the PATH", s.Binary)
		}
		s.Binary = path
	}
	for _, prog := range m.NeedPrograms {
		if _, err := exec.LookPath(prog); err != nil {
			return s, fmt.Errorf("needs.programs: %s is not on the PATH (%s)", prog, hint)
		}
	}
	for _, file := range expandAll(m.NeedFiles, vars) {
		if _, err := os.Stat(file); err != nil {
			return s, fmt.Errorf("needs.files: %s not found (%s)", file, hint)
		}
	}
	if m.Request != nil && m.Request.BodyFile != "" {
		if _, err := os.Stat(m.Request.BodyFile); err != nil {
			return s, fmt.Errorf("request.body_file: %w", err)
		}
	}
	return s, nil
}
