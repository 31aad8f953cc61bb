package runfolder

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
)

// oldKey is the JSON key that once named three things: the run's S
// (Summary.S, now "s"), a trial's warm-up job time (Trial.WarmupJob, now
// "warmup_job"), the S a level was counted in (now derived, see
// derivedKeys) and the S of an open-model step's ideal (now "s"). A stored file is upgraded once, as it is loaded, so the types
// carry only the current keys.
const oldKey = "calibration"

// derivedKeys are what a level stored of S before figures counted in S
// were derived from the round's S (Summary.BurstIdeal): its S (under
// oldKey or "s"), ideal makespan and efficiency. They are dropped as a
// file is loaded, not used where no S is known: a run without S counted
// each level in its trial's warm-up job time, which the trial still
// holds, so the derivation gives the stored figures back.
var derivedKeys = []string{oldKey, "s", "ideal_makespan", "efficiency"}

// readUpgraded reads the JSON file at path into v after upgrade has
// renamed its old keys.
func readUpgraded(path string, upgrade func(map[string]any), v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber() // byte counts and pids stay exact
	var tree map[string]any
	if err := dec.Decode(&tree); err != nil {
		return fmt.Errorf("decode %s: %w", path, err)
	}
	upgrade(tree)
	if data, err = json.Marshal(tree); err != nil {
		return fmt.Errorf("upgrade %s: %w", path, err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("decode %s: %w", path, err)
	}
	return nil
}

// upgradeSummary renames the old keys of a summary.json.
func upgradeSummary(sum map[string]any) {
	renameOld(sum, "s")
	for _, m := range objects(sum["modes"]) {
		upgradeModeRun(m)
	}
}

// upgradeModeRun renames the old keys of a mode.json, or of a mode in a
// summary.json.
func upgradeModeRun(run map[string]any) {
	upgradeTrial(run)
	for _, t := range objects(run["more_rounds"]) {
		upgradeTrial(t)
	}
}

// upgradeTrial renames the old keys of a trial and drops its levels'
// derivedKeys.
func upgradeTrial(t map[string]any) {
	renameOld(t, "warmup_job")
	for _, l := range objects(t["levels"]) {
		for _, k := range derivedKeys {
			delete(l, k)
		}
	}
	for _, r := range objects(t["rates"]) {
		if m, ok := r["metrics"].(map[string]any); ok {
			renameOld(m, "s")
		}
	}
}

// renameOld moves m's oldKey to key, unless m already has key.
func renameOld(m map[string]any, key string) {
	v, ok := m[oldKey]
	if !ok {
		return
	}
	delete(m, oldKey)
	if _, has := m[key]; !has {
		m[key] = v
	}
}

// objects returns the JSON objects in v, an array; none for anything else.
func objects(v any) []map[string]any {
	arr, _ := v.([]any)
	var out []map[string]any
	for _, x := range arr {
		if m, ok := x.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

// LoadModeRun reads a mode.json, upgrading its old keys.
func LoadModeRun(path string) (ModeRun, error) {
	var run ModeRun
	err := readUpgraded(path, upgradeModeRun, &run)
	return run, err
}
