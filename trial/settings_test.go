package trial

import (
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/flipbench/flipbench/contract"
	"github.com/flipbench/flipbench/server/servertest"
)

func TestSettingsFill(t *testing.T) {
	var s Settings
	s.Fill("results/x")
	want := Settings{BinDir: DefaultBinDir, NodeApp: DefaultNodeApp, Image: contract.DefaultImage, Out: "results/x",
		Cores: runtime.NumCPU(), Warmups: DefaultWarmups, StartTimeout: DefaultStartTimeout, StopTimeout: DefaultStopTimeout}
	if s.Log == nil {
		t.Error("Fill left Log nil")
	}
	if s.BinDir != want.BinDir || s.NodeApp != want.NodeApp || s.Image != want.Image || s.Out != want.Out ||
		s.Cores != want.Cores || s.Warmups != want.Warmups || s.StartTimeout != want.StartTimeout || s.StopTimeout != want.StopTimeout {
		t.Errorf("filled %+v, want %+v", s, want)
	}
	given := Settings{Out: "mine", Warmups: 2, Cores: 3}
	given.Fill("results/x")
	if given.Out != "mine" || given.Warmups != 2 || given.Cores != 3 || given.Log == nil {
		t.Errorf("Fill overrode given values or left Log nil: %+v", given)
	}
}

func TestSettingsValidate(t *testing.T) {
	img := servertest.Photo(t)
	for _, tc := range []struct {
		name string
		edit func(*Settings)
		want string
	}{
		{"no cores", func(s *Settings) { s.Cores = -1 }, "cores"},
		{"no warm-up", func(s *Settings) { s.Warmups = -1 }, "warm-ups"},
		{"negative start timeout", func(s *Settings) { s.StartTimeout = -1 }, "timeouts"},
		{"missing image", func(s *Settings) { s.Image = filepath.Join(t.TempDir(), "nope.jpg") }, "image"},
		{"image is a folder", func(s *Settings) { s.Image = t.TempDir() }, "is a folder"},
	} {
		s := Settings{Image: img}
		s.Fill(t.TempDir())
		if err := s.Validate(); err != nil {
			t.Fatalf("filled settings: %v", err)
		}
		tc.edit(&s)
		if err := s.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err %v, want one mentioning %q", tc.name, err, tc.want)
		}
	}
}
