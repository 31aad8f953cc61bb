package trial

import (
	"fmt"
	"io"
)

// Resolve returns the spec that starts mode name in p, with extra appended
// to its arguments (a flag given twice takes its last value, so extra
// overrides the mode's own), or why the mode cannot run here.
func Resolve(name string, p Place, extra []string) (Spec, error) {
	mode, err := p.modes().Lookup(name)
	if err != nil {
		return Spec{Name: name}, err
	}
	spec, err := mode.Command(p)
	spec.Args = append(spec.Args, extra...)
	return spec, err
}

// Resolved is one mode a run asked for: its spec, or why it cannot run here.
type Resolved struct {
	Spec    Spec
	Skipped string
}

// ResolveAll resolves the modes names in p, each with args[name] appended
// to its command line, writing a line to log for each that cannot run here.
// It returns them in order and the specs that can run, or an error, saying
// why the first was skipped, when none can; what names a "mode" in it.
func ResolveAll(names []string, p Place, args map[string][]string, what string, log io.Writer) ([]Resolved, []Spec, error) {
	var all []Resolved
	var specs []Spec
	for _, name := range names {
		spec, err := Resolve(name, p, args[name])
		r := Resolved{Spec: spec}
		if err != nil {
			r.Skipped = err.Error()
			fmt.Fprintf(log, "skip %s: %v\n", name, err)
		} else {
			specs = append(specs, spec)
		}
		all = append(all, r)
	}
	if len(specs) == 0 && len(all) > 0 {
		return all, nil, fmt.Errorf("no %s can run here: %s", what, all[0].Skipped)
	}
	return all, specs, nil
}
