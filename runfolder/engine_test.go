package runfolder

import "testing"

func TestSpecEngine(t *testing.T) {
	for _, tc := range []struct {
		spec Spec
		want string
	}{
		{Spec{Family: "go", Binary: "bin/standard", Args: []string{"--procs=1"}}, "imaging"},
		{Spec{Family: "go", Binary: "bin/clustered-vips", Args: []string{"--workers=2", "--balance=shared", "--engine=vips"}}, "vips"},
		{Spec{Family: "node", Binary: "/usr/bin/node", Args: []string{"nodeapp/standard.js"}}, "jimp"},
		{Spec{Family: "node", Binary: "/usr/bin/node", Args: []string{"nodeapp/cluster.js", "--engine=sharp"}}, "sharp"},
		{Spec{Binary: "standard", Args: []string{"-procs", "1", "-engine", "vips"}}, "vips"}, // the flag's value apart
		{Spec{Binary: "standard", Args: []string{"-procs", "1"}}, "imaging"},                 // stored before families
		{Spec{Binary: "/usr/bin/node", Args: []string{"nodeapp/standard.js"}}, "jimp"},
		{Spec{Binary: "standard", Args: []string{"--engines-dir=x"}}, "imaging"}, // not the engine flag
	} {
		if got := tc.spec.Engine(); got != tc.want {
			t.Errorf("%+v: Engine() = %q, want %q", tc.spec, got, tc.want)
		}
	}
}
