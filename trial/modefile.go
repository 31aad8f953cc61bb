package trial

import (
	_ "embed"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/BurntSushi/toml"

	"github.com/flipbench/flipbench/runfolder"
)

// builtinModes is the default modes file: the project's own modes, in the
// format it offers (see modeEntry for every key).
//
//go:embed modes.toml
var builtinModes []byte

// BuiltinFileName names the embedded default file in errors.
const BuiltinFileName = "built-in modes.toml"

// ModeFile is a modes file, read and checked: its modes in file order
// (each sweep value a mode of its own) and the baseline.
type ModeFile struct {
	Name     string // where it was read from, for errors
	Baseline string // speedups are over it, S is measured on it
	Modes    []Mode
}

// modeFileTOML is a modes file as written. TOML because people write it by
// hand, it has comments, and BurntSushi/toml reports every key it did not
// decode, so a misspelt key is an error that names its mode and field.
type modeFileTOML struct {
	Baseline string               `toml:"baseline"`
	Modes    map[string]modeEntry `toml:"modes"`
}

// modeEntry is one [modes.NAME] table.
type modeEntry struct {
	About   string   `toml:"about"`
	Family  string   `toml:"family"`
	Default bool     `toml:"default"`
	Command []string `toml:"command"` // program and arguments, with placeholders
	Env     []string `toml:"env"`     // KEY=VALUE, with placeholders
	Dir     string   `toml:"dir"`     // working directory
	// Contract means the server speaks flipbench's contract: it takes the
	// address-file, image and tmpdir flags and serves /healthz. Otherwise it
	// learns its port from {port} or {addr} in command or env, or from the
	// variable PortEnv.
	Contract bool   `toml:"contract"`
	PortEnv  string `toml:"port_env"`
	// Ready is an HTTP path that answers 2xx once the server is ready
	// (default /healthz), or "tcp" for a connect.
	Ready string `toml:"ready"`
	// Capacity is jobs at once: a positive integer, or a string such as
	// "{workers}"; without it, the capacity field of Ready's JSON answer.
	Capacity any          `toml:"capacity"`
	Request  *requestTOML `toml:"request"`
	Needs    needsTOML    `toml:"needs"`
	Missing  string       `toml:"missing"` // how to get what is missing
	// Sweep lists values for a placeholder; each value is a mode named by
	// SweepName (default NAME-KEYVALUE).
	Sweep     map[string][]int `toml:"sweep"`
	SweepName string           `toml:"sweep_name"`
}

// requestTOML is the request a mode's load sends.
type requestTOML struct {
	Method      string            `toml:"method"`
	Path        string            `toml:"path"`
	BodyFile    string            `toml:"body_file"`
	ContentType string            `toml:"content_type"`
	Headers     map[string]string `toml:"headers"`
}

// needsTOML is what a mode needs besides its program.
type needsTOML struct {
	Programs []string `toml:"programs"` // on the PATH
	Files    []string `toml:"files"`    // with placeholders
}

// Builtin returns the embedded default modes file. It panics if that file
// is bad, which its tests rule out.
var Builtin = sync.OnceValue(func() *ModeFile {
	f, err := ParseModeFile(BuiltinFileName, builtinModes)
	if err != nil {
		panic(err)
	}
	return f
})

// ReadModeFile reads and checks the modes file at path.
func ReadModeFile(path string) (*ModeFile, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("modes file: %w", err)
	}
	return ParseModeFile(path, b)
}

// ParseModeFile decodes and checks a modes file named name. Every error is
// one line naming the mode and the field.
func ParseModeFile(name string, b []byte) (*ModeFile, error) {
	var raw modeFileTOML
	md, err := toml.Decode(string(b), &raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %s", name, oneLine(err))
	}
	if und := md.Undecoded(); len(und) > 0 {
		return nil, fmt.Errorf("%s: %s", name, unknownKey(und[0]))
	}
	f := &ModeFile{Name: name, Baseline: raw.Baseline}
	seen := map[string]string{} // mode name -> the table that made it
	for _, key := range md.Keys() {
		if len(key) != 2 || key[0] != "modes" {
			continue
		}
		table := key[1]
		modes, err := raw.Modes[table].modes(table)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		for _, m := range modes {
			if by, ok := seen[m.Name]; ok {
				return nil, fmt.Errorf("%s: mode %s: name: already the name of a mode of [modes.%s]", name, m.Name, by)
			}
			seen[m.Name] = table
			f.Modes = append(f.Modes, m)
		}
	}
	switch _, ok := seen[f.Baseline]; {
	case len(f.Modes) == 0:
		return nil, fmt.Errorf("%s: no [modes.NAME] table", name)
	case f.Baseline == "":
		return nil, fmt.Errorf("%s: baseline: missing: name the mode speedups are over and S is measured on", name)
	case !ok:
		return nil, fmt.Errorf("%s: baseline: %q is not a mode of the file", name, f.Baseline)
	}
	return f, nil
}

// unknownKey says which key of a modes file is unknown.
func unknownKey(k toml.Key) string {
	if len(k) >= 3 && k[0] == "modes" {
		return fmt.Sprintf("mode %s: %s: unknown key", k[1], strings.Join(k[2:], "."))
	}
	return fmt.Sprintf("%s: unknown key", k)
}

// oneLine is err's first line: a TOML parse error carries a multi-line
// excerpt in its Usage, not in Error.
func oneLine(err error) string {
	var pe toml.ParseError
	if errors.As(err, &pe) {
		return fmt.Sprintf("line %d: %s", pe.Position.Line, pe.Message)
	}
	s, _, _ := strings.Cut(err.Error(), "\n")
	return s
}

// modes checks the table named table and returns its modes: one, or one
// per value of its sweep.
func (e modeEntry) modes(table string) ([]Mode, error) {
	fail := func(field, format string, args ...any) error {
		return fmt.Errorf("mode %s: %s: %s", table, field, fmt.Sprintf(format, args...))
	}
	if len(e.Command) == 0 || e.Command[0] == "" {
		return nil, fail("command", "missing: give the program and its arguments")
	}
	if len(e.Sweep) > 1 {
		return nil, fail("sweep", "one placeholder at most, got %d", len(e.Sweep))
	}
	known := []string{phBin, phNodeApp, phCores}
	var key string
	var values []int
	for k, v := range e.Sweep {
		key, values = k, v
		if len(v) == 0 {
			return nil, fail("sweep", "%s has no values", k)
		}
		if slices.Contains(slices.Concat(known, []string{phPort, phAddr, phImage, phTmpDir}), k) {
			return nil, fail("sweep", "{%s} is a built-in placeholder", k)
		}
		known = append(known, k)
		if !slices.ContainsFunc(e.Command, func(a string) bool { return strings.Contains(a, "{"+k+"}") }) &&
			!slices.ContainsFunc(e.Env, func(a string) bool { return strings.Contains(a, "{"+k+"}") }) {
			return nil, fail("sweep", "{%s} is used in neither command nor env", k)
		}
	}
	if e.SweepName != "" && key == "" {
		return nil, fail("sweep_name", "given without a sweep")
	}
	portKnown := known
	if !e.Contract {
		portKnown = append(slices.Clone(known), phPort, phAddr, phImage, phTmpDir)
	}
	for field, list := range map[string][]string{"command": e.Command, "env": e.Env, "needs.files": e.Needs.Files, "dir": {e.Dir}} {
		for _, s := range list {
			if err := checkPlaceholders(s, portKnown); err != nil {
				return nil, fail(field, "%v", err)
			}
		}
	}
	m, err := e.base(table, fail)
	if err != nil {
		return nil, err
	}
	if key == "" {
		return []Mode{m}, nil
	}
	nameTmpl := e.SweepName
	if nameTmpl == "" {
		nameTmpl = table + "-" + key + "{" + key + "}"
	}
	if !strings.Contains(nameTmpl, "{"+key+"}") {
		return nil, fail("sweep_name", "%q lacks {%s}, so its modes would share a name", nameTmpl, key)
	}
	var out []Mode
	for _, v := range values {
		vars := map[string]string{key: strconv.Itoa(v)}
		sm := m
		sm.Name = expand(nameTmpl, vars)
		sm.About = expand(m.About, vars)
		sm.vars = vars
		sm.Sweep = &runfolder.SweepPoint{Of: table, Key: key, Value: v}
		if sm.capacity != "" {
			if _, err := positive(expand(sm.capacity, map[string]string{phCores: "1", key: vars[key]})); err != nil {
				return nil, fmt.Errorf("mode %s: capacity: %w", sm.Name, err)
			}
		}
		out = append(out, sm)
	}
	return out, nil
}

// base is the entry's mode before any sweep value is put in.
func (e modeEntry) base(table string, fail func(field, format string, args ...any) error) (Mode, error) {
	m := Mode{Name: table, Family: Family(e.Family), About: e.About, Default: e.Default,
		CommandLine: e.Command, Env: e.Env, Dir: e.Dir, Contract: e.Contract, PortEnv: e.PortEnv,
		Ready: e.Ready, Missing: e.Missing, NeedPrograms: e.Needs.Programs, NeedFiles: e.Needs.Files}
	if m.Family == "" {
		m.Family = "other"
	}
	if strings.ContainsAny(table, "{}/ ,") {
		return m, fail("name", "%q: no braces, slashes, spaces or commas in a mode's name", table)
	}
	for _, kv := range e.Env {
		if k, _, ok := strings.Cut(kv, "="); !ok || k == "" {
			return m, fail("env", "%q is not KEY=VALUE", kv)
		}
	}
	if m.Ready == "" {
		m.Ready = defaultReady
	}
	if m.Ready != ReadyTCP && !strings.HasPrefix(m.Ready, "/") {
		return m, fail("ready", "%q: an HTTP path such as /healthz, or tcp", m.Ready)
	}
	if !e.Contract && e.PortEnv == "" && !usesPort(e.Command, e.Env) {
		return m, fail("command", "no {port} or {addr} placeholder and no port_env: the server cannot learn its port")
	}
	if e.Contract && e.PortEnv != "" {
		return m, fail("port_env", "a contract server learns its port from its address file")
	}
	switch c := e.Capacity.(type) {
	case nil:
		if m.Ready == ReadyTCP {
			return m, fail("capacity", "missing: with ready = tcp nothing else says how many jobs it runs at once")
		}
	case int64:
		if c < 1 {
			return m, fail("capacity", "%d is not a positive number", c)
		}
		m.capacity = strconv.FormatInt(c, 10)
	case string:
		if err := checkPlaceholders(c, append([]string{phCores}, keys(e.Sweep)...)); err != nil {
			return m, fail("capacity", "%v", err)
		}
		if len(e.Sweep) == 0 {
			if _, err := positive(expand(c, map[string]string{phCores: "1"})); err != nil {
				return m, fail("capacity", "%v", err)
			}
		}
		m.capacity = c
	default:
		return m, fail("capacity", "%v is not a positive number", c)
	}
	if r := e.Request; r != nil {
		if r.Path != "" && !strings.HasPrefix(r.Path, "/") {
			return m, fail("request.path", "%q does not start with /", r.Path)
		}
		m.Request = &runfolder.Request{Method: strings.ToUpper(r.Method), Path: r.Path, BodyFile: r.BodyFile,
			ContentType: r.ContentType, Headers: r.Headers}
	}
	return m, nil
}

// positive parses s as a positive integer.
func positive(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("%q is not a positive number", s)
	}
	return n, nil
}

func keys(m map[string][]int) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}
