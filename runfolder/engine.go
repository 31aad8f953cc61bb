package runfolder

import (
	"path/filepath"
	"strings"

	"github.com/flipbench/flipbench/contract"
)

// The image libraries a mode's job runs on: the Go servers' default and
// the Node app's (the article's), when the command names none.
const (
	EngineGoDefault   = "imaging"
	EngineNodeDefault = "jimp"
)

// Engine is the image library the spec's server flips with: the value of
// its engine flag (-engine vips, --engine=sharp), else its family's default
// (Jimp for the Node app, Go's imaging for the Go servers; a spec stored
// before families existed is Node's when its binary is node). It reads
// the stored command and nothing else.
func (s Spec) Engine() string {
	for i, a := range s.Args {
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") || name != contract.FlagEngine {
			continue
		}
		if hasValue {
			return value
		}
		if i+1 < len(s.Args) {
			return s.Args[i+1]
		}
	}
	if s.Family == "node" || (s.Family == "" && filepath.Base(s.Binary) == "node") {
		return EngineNodeDefault
	}
	return EngineGoDefault
}
