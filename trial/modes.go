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
	"strings"

	"github.com/flipbench/flipbench/contract"
	"github.com/flipbench/flipbench/runfolder"
)

// Family groups modes by what serves them (see package runfolder).
type Family = runfolder.Family

// Families of modes.
const (
	FamilyGo   Family = "go"   // the Go binaries in the bin folder
	FamilyNode Family = "node" // the article's Koa + Jimp app on Node
)

// Place is where a run finds its servers and what it runs them on.
type Place struct {
	BinDir  string // the Go server binaries
	NodeApp string // the article's Node app (its folder, with node_modules)
	Cores   int    // the core count modes size themselves by
}

// Need is something a mode needs besides its program. Check returns why the
// need is not met; the mode is then skipped with that reason.
type Need struct {
	What  string
	Check func(Place) error
}

// Mode is one way of serving the flip app. Adding a mode is adding a value to
// Modes; how many jobs it runs at once is read from its /healthz, never from
// its flags.
type Mode struct {
	Name   string
	Family Family
	About  string // one line for -h and the summary
	// Program is the executable: a file in Place.BinDir, or, when OnPath is
	// set, a program looked up on the PATH.
	Program string
	OnPath  bool
	// Missing says how to get a Program that is not in Place.BinDir, when make
	// build alone may not make it.
	Missing string
	// Args are the mode's own arguments; Run adds the common server flags
	// (address, image, tmpdir) after them.
	Args  func(Place) []string
	Env   []string // added to the server's environment
	Needs []Need
	// Default modes run when none are named.
	Default bool
}

// Modes returns every mode Run knows, in report order.
func Modes() []Mode {
	goFlag := func(name string, v any) string { return contract.Arg(name, fmt.Sprint(v)) }
	cluster := func(balance string) func(Place) []string {
		return func(p Place) []string {
			return []string{goFlag(contract.FlagWorkers, p.Cores), goFlag(contract.FlagBalance, balance)}
		}
	}
	nodeScript := func(script string, flags ...string) func(Place) []string {
		return func(p Place) []string { return append([]string{filepath.Join(p.NodeApp, script)}, flags...) }
	}
	vipsEngine, sharpEngine := contract.Arg(contract.FlagEngine, "vips"), contract.Arg(contract.FlagEngine, "sharp")
	nodeInstalled := Need{What: "the Node app installed (make build runs npm ci)", Check: func(p Place) error {
		if _, err := os.Stat(filepath.Join(p.NodeApp, "node_modules")); err != nil {
			return fmt.Errorf("%s has no node_modules: run make build (npm ci) with node and npm on the PATH", p.NodeApp)
		}
		return nil
	}}
	return []Mode{
		{Name: "standard", Family: FamilyGo, Default: true, Program: "standard",
			About: "one process on one thread (GOMAXPROCS=1): a single Node process",
			Args:  func(Place) []string { return []string{goFlag(contract.FlagProcs, 1)} }},
		{Name: "threaded", Family: FamilyGo, Default: true, Program: "standard",
			About: "one process on every core: Go's own answer",
			Args:  func(p Place) []string { return []string{goFlag(contract.FlagProcs, p.Cores)} }},
		{Name: "clustered", Family: FamilyGo, Default: true, Program: "clustered",
			About: "a master and one worker process per core, a SO_REUSEPORT socket each",
			Args:  cluster("reuseport")},
		{Name: "shared", Family: FamilyGo, Default: true, Program: "clustered",
			About: "the same cluster on one shared socket; a worker accepts only with a free job slot",
			Args:  cluster("shared")},
		{Name: "queued", Family: FamilyGo, Program: "queued",
			About: "an HTTP front that flips nothing; jobs go over embedded NATS JetStream to one worker process per core",
			Args:  func(p Place) []string { return []string{goFlag(contract.FlagWorkers, p.Cores)} }},
		{Name: "node-standard", Family: FamilyNode, Program: "node", OnPath: true,
			About: "the article's Koa + Jimp app, one Node process",
			Args:  nodeScript("standard.js"), Needs: []Need{nodeInstalled}},
		{Name: "node-cluster", Family: FamilyNode, Program: "node", OnPath: true,
			About: "the article's app on Node's cluster module, master round-robin (SCHED_RR, Node's default)",
			Args:  nodeScript("cluster.js"), Env: []string{"NODE_CLUSTER_SCHED_POLICY=rr"}, Needs: []Need{nodeInstalled}},
		{Name: "node-cluster-none", Family: FamilyNode, Program: "node", OnPath: true,
			About: "the article's app on Node's cluster module, one shared socket (SCHED_NONE)",
			Args:  nodeScript("cluster.js"), Env: []string{"NODE_CLUSTER_SCHED_POLICY=none"}, Needs: []Need{nodeInstalled}},
		// Last, so that the modes above keep their plot colours: report
		// picks a mode's colour by its place in this list.
		{Name: "rr", Family: FamilyGo, Program: "clustered",
			About: "Node's SCHED_RR in Go: the master accepts and hands each connection to a worker with a free job slot, round-robin",
			Args:  cluster("rr")},
		{Name: "none", Family: FamilyGo, Program: "clustered",
			About: "Node's SCHED_NONE in Go: one shared socket, every worker accepts whenever it can (no gate)",
			Args:  cluster("none")},
		// The engines people pick today: libvips in Go, sharp in Node. report's
		// palette has twenty colours, so every mode here has one of its own.
		{Name: "node-sharp-cluster-1t", Family: FamilyNode, Program: "node", OnPath: true,
			About: "node-sharp-cluster with UV_THREADPOOL_SIZE=1: one pool thread per worker, no oversubscription",
			Args:  nodeScript("cluster.js", sharpEngine), Env: []string{"NODE_CLUSTER_SCHED_POLICY=rr", "UV_THREADPOOL_SIZE=1"}, Needs: []Need{nodeInstalled}},
		{Name: "node-sharp-standard", Family: FamilyNode, Program: "node", OnPath: true,
			About: "the article's app on sharp (libvips), one Node process: jobs on libuv's pool (4 threads)",
			Args:  nodeScript("standard.js", sharpEngine), Needs: []Need{nodeInstalled}},
		{Name: "vips-standard", Family: FamilyGo, Program: "standard-vips", Missing: vipsMissing,
			About: "standard on libvips (govips, one libvips thread per job)",
			Args:  func(Place) []string { return []string{goFlag(contract.FlagProcs, 1), vipsEngine} }},
		{Name: "vips-shared", Family: FamilyGo, Program: "clustered-vips", Missing: vipsMissing,
			About: "shared on libvips: one worker process per core, one libvips thread per job",
			Args:  func(p Place) []string { return append(cluster("shared")(p), vipsEngine) }},
		{Name: "node-sharp-cluster", Family: FamilyNode, Program: "node", OnPath: true,
			About: "the article's app on sharp and Node's cluster (SCHED_RR): one worker per core, each with libuv's pool of 4",
			Args:  nodeScript("cluster.js", sharpEngine), Env: []string{"NODE_CLUSTER_SCHED_POLICY=rr"}, Needs: []Need{nodeInstalled}},
	}
}

// vipsMissing says how to get the libvips binaries.
const vipsMissing = "make build makes it when pkg-config finds libvips: apt-get install libvips-dev"

// ModeNames returns the names of every mode, in report order.
func ModeNames() []string {
	var names []string
	for _, m := range Modes() {
		names = append(names, m.Name)
	}
	return names
}

// DefaultModes returns the names of the modes Run runs when none are named.
func DefaultModes() []string {
	var names []string
	for _, m := range Modes() {
		if m.Default {
			names = append(names, m.Name)
		}
	}
	return names
}

// LookupMode returns the mode called name.
func LookupMode(name string) (Mode, error) {
	for _, m := range Modes() {
		if m.Name == name {
			return m, nil
		}
	}
	return Mode{}, fmt.Errorf("unknown mode %q (known: %s)", name, strings.Join(ModeNames(), ", "))
}

// Spec is a mode resolved for one run (see package runfolder).
type Spec = runfolder.Spec

// Command returns the mode's program (resolved) and arguments in p, and
// says why the mode cannot run there: a program that is missing, or a need
// that is not met.
func (m Mode) Command(p Place) (Spec, error) {
	s := Spec{Name: m.Name, Family: m.Family, Env: m.Env}
	if m.Args != nil {
		s.Args = m.Args(p)
	}
	if m.OnPath {
		path, err := exec.LookPath(m.Program)
		if err != nil {
			return s, fmt.Errorf("%s is not on the PATH", m.Program)
		}
		s.Binary = path
	} else {
		s.Binary = filepath.Join(p.BinDir, m.Program)
		fi, err := os.Stat(s.Binary)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return s, fmt.Errorf("%s not found (%s)", s.Binary, cmp.Or(m.Missing, "build it with make build"))
		case err != nil:
			return s, fmt.Errorf("%s: %w", s.Binary, err)
		case fi.IsDir():
			return s, fmt.Errorf("%s is a folder, not a server binary", s.Binary)
		}
	}
	for _, n := range m.Needs {
		if err := n.Check(p); err != nil {
			return s, fmt.Errorf("needs %s: %w", n.What, err)
		}
	}
	return s, nil
}

// ParseModes reads a comma-separated list of mode names, refusing unknown
// names, duplicates and an empty list.
func ParseModes(s string) ([]string, error) {
	var modes []string
	for f := range strings.SplitSeq(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if _, err := LookupMode(f); err != nil {
			return nil, err
		}
		if slices.Contains(modes, f) {
			return nil, fmt.Errorf("mode %q listed twice", f)
		}
		modes = append(modes, f)
	}
	if len(modes) == 0 {
		return nil, fmt.Errorf("no modes in %q (known: %s)", s, strings.Join(ModeNames(), ", "))
	}
	return modes, nil
}

// ModeOrder sorts mode names in report order, unknown names last by name.
func ModeOrder(a, b string) int { return runfolder.OrderBy(ModeNames())(a, b) }
