package job

import (
	"strings"
	"testing"
)

// forEachEngine runs f on every engine of this build, and says on one line which it
// skips (libvips needs -tags flipbench_vips).
func forEachEngine(t *testing.T, f func(t *testing.T, e Engine)) {
	t.Helper()
	for _, name := range EngineNames() {
		t.Run(name, func(t *testing.T) {
			e, err := ParseEngine(name)
			if err != nil {
				t.Skipf("engine %s not in this build: go test -tags flipbench_vips with libvips-dev installed", name)
			}
			f(t, e)
		})
	}
}

func TestParseEngine(t *testing.T) {
	for _, name := range []string{"", EngineImaging} {
		e, err := ParseEngine(name)
		if err != nil || e.Name() != EngineImaging {
			t.Errorf("ParseEngine(%q): got %q, %v; want imaging", name, e.Name(), err)
		}
	}
	if got := (Engine{}).Name(); got != EngineImaging {
		t.Errorf("the zero Engine is %q, want imaging", got)
	}
	if _, err := ParseEngine("gimp"); err == nil || !strings.Contains(err.Error(), "known: imaging, vips") {
		t.Errorf("unknown engine: got %v", err)
	}
	if e, err := ParseEngine(EngineVips); err == nil && e.Name() != EngineVips {
		t.Errorf("vips engine calls itself %q", e.Name())
	} else if err != nil && !strings.Contains(err.Error(), "flipbench_vips") {
		t.Errorf("a build without libvips should say how to get it: %v", err)
	}
}
