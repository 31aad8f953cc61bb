package runfolder

import (
	"path/filepath"
	"testing"
)

// A committed run folder, stored when "calibration" named the run's S, a
// trial's warm-up job time and a level's S, loads with each in its own
// field.
func TestLoadUpgradesACommittedRun(t *testing.T) {
	dir := filepath.Join("..", "results", "reference-2core")
	sum, err := LoadSummary(dir)
	if err != nil {
		t.Fatal(err)
	}
	if sum.S == nil || sum.S.S <= 0 || sum.S.Mode != BaselineMode {
		t.Fatalf("the run's S did not load: %+v", sum.S)
	}
	if len(sum.Modes) == 0 {
		t.Fatal("no modes loaded")
	}
	for _, m := range sum.Modes {
		if m.WarmupJob <= 0 || len(m.Levels) == 0 {
			t.Errorf("%s: warm-up job %s, levels %d; want both", m.Mode, m.WarmupJob, len(m.Levels))
		}
		for _, tr := range m.Rounds {
			if tr.WarmupJob <= 0 {
				t.Errorf("%s round %d: no warm-up job time", m.Mode, tr.Round)
			}
		}
	}
	run, err := LoadModeRun(filepath.Join(dir, BaselineMode, FileMode))
	if err != nil {
		t.Fatal(err)
	}
	std, _ := sum.Mode(BaselineMode)
	if run.WarmupJob != std.WarmupJob || len(run.Levels) != len(std.Levels) {
		t.Errorf("mode.json: warm-up job %s, want %s as in summary.json; levels %d", run.WarmupJob, std.WarmupJob, len(run.Levels))
	}
}

// A key stored under its current name is not overwritten by an old one,
// and a level's figures counted in S are dropped (they are derived).
func TestUpgradeKeepsCurrentKeys(t *testing.T) {
	trial := map[string]any{oldKey: "1s", "warmup_job": "2s", "levels": []any{
		map[string]any{"level": 4, oldKey: "3s", "ideal_makespan": "6s", "efficiency": 0.5},
		map[string]any{"level": 8, "s": "3s"},
	}, "rates": []any{map[string]any{"load": 0.5, "metrics": map[string]any{oldKey: "4s"}}}}
	upgradeTrial(trial)
	if trial["warmup_job"] != "2s" || trial[oldKey] != nil {
		t.Errorf("trial upgraded to %v", trial)
	}
	for _, l := range trial["levels"].([]any) {
		if l := l.(map[string]any); len(l) != 1 || l["level"] == nil {
			t.Errorf("level upgraded to %v, want its level alone", l)
		}
	}
	if m := trial["rates"].([]any)[0].(map[string]any)["metrics"].(map[string]any); m["s"] != "4s" || m[oldKey] != nil {
		t.Errorf("an open-model step's metrics upgraded to %v, want its S under \"s\"", m)
	}
}
