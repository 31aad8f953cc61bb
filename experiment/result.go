package experiment

import (
	"fmt"
	"path/filepath"

	"github.com/flipbench/flipbench/loadtest"
)

// WriteResult writes v, an experiment's result, as file in the run folder
// dir, after noting in m (v's Machine) the load average at the end.
func WriteResult(dir, file string, m *Machine, v any) error {
	m.End()
	return loadtest.WriteJSON(filepath.Join(dir, file), v)
}

// Load reads the result file of an experiment's run folder dir; what names
// the experiment in the error.
func Load[T any](dir, file, what string) (*T, error) {
	var v T
	if err := loadtest.ReadJSON(filepath.Join(dir, file), &v); err != nil {
		return nil, fmt.Errorf("%s run %s: %w", what, dir, err)
	}
	return &v, nil
}
