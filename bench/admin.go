package bench

import (
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/flipbench/flipbench/contract"
	"github.com/flipbench/flipbench/runfolder"
	"github.com/flipbench/flipbench/trial"
)

// adminTokenFile is the file, in a cluster trial's folder, holding the
// bearer token of its master's admin address while the trial runs.
const adminTokenFile = "admin-token"

// clusterProgram begins the name of every cluster binary (clustered,
// clustered-vips): their request histograms are served by the master on
// its admin address only.
const clusterProgram = "clustered"

// adminToken is a cluster trial's admin token and the file holding it.
type adminToken struct {
	file, token string
}

// withAdmin returns spec with its master's admin address on port 0 of
// 127.0.0.1 and the token it wrote for it in a file in dir, when spec is a
// cluster; spec unchanged and no token otherwise. The caller removes the
// file after the trial, so that no token stays in the run folder.
func withAdmin(spec trial.Spec, dir string) (trial.Spec, adminToken, error) {
	if !strings.HasPrefix(filepath.Base(spec.Binary), clusterProgram) || slices.ContainsFunc(spec.Args, isAdminArg) {
		return spec, adminToken{}, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return spec, adminToken{}, fmt.Errorf("%s: admin token: %w", spec.Name, err)
	}
	a := adminToken{file: filepath.Join(dir, adminTokenFile), token: rand.Text()}
	if err := os.WriteFile(a.file, []byte(a.token+"\n"), 0o600); err != nil {
		return spec, adminToken{}, fmt.Errorf("%s: admin token: %w", spec.Name, err)
	}
	spec.Args = append(slices.Clone(spec.Args),
		contract.Arg(contract.FlagAdmin, "127.0.0.1:0"), contract.Arg(contract.FlagAdminTokenFile, a.file))
	return spec, a, nil
}

// remove deletes the token file, if there is one.
func (a adminToken) remove() {
	if a.file != "" {
		_ = os.Remove(a.file)
	}
}

// isAdminArg reports whether a is an -admin flag the mode already has.
func isAdminArg(a string) bool {
	return strings.HasPrefix(strings.TrimLeft(a, "-"), contract.FlagAdmin+"=")
}

// adminLine finds the admin address in the master's log, text or JSON.
var adminLine = regexp.MustCompile(`admin serving.*?admin_addr"?[=:]"?([^\s"]+)`)

// adminAddr is the admin address the server of the trial in dir logged,
// "" when it logged none.
func adminAddr(dir string) string {
	b, err := os.ReadFile(filepath.Join(dir, runfolder.FileServerLog))
	if err != nil {
		return ""
	}
	if m := adminLine.FindSubmatch(b); m != nil {
		return string(m[1])
	}
	return ""
}
