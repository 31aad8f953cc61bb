package trial

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Placeholders of a modes file, besides a sweep's key.
const (
	phBin     = "bin"     // Place.BinDir
	phNodeApp = "nodeapp" // Place.NodeApp
	phCores   = "cores"   // Place.Cores
	phPort    = "port"    // the port a plain server is to bind
	phAddr    = "addr"    // 127.0.0.1:{port}
	phImage   = "image"   // the photo (-image), for a plain server of the flip app
	phTmpDir  = "tmpdir"  // the server's own temp folder, checked for leftovers
)

// placeholder matches {name}.
var placeholder = regexp.MustCompile(`\{([a-zA-Z_][a-zA-Z0-9_]*)\}`)

// checkPlaceholders refuses a placeholder in s that is not in known.
func checkPlaceholders(s string, known []string) error {
	for _, m := range placeholder.FindAllStringSubmatch(s, -1) {
		if !slices.Contains(known, m[1]) {
			return fmt.Errorf("unknown placeholder {%s} in %q (known here: {%s})", m[1], s, strings.Join(known, "}, {"))
		}
	}
	return nil
}

// expand replaces each {key} of vars in s; other placeholders stay.
func expand(s string, vars map[string]string) string {
	return placeholder.ReplaceAllStringFunc(s, func(m string) string {
		if v, ok := vars[m[1:len(m)-1]]; ok {
			return v
		}
		return m
	})
}

// expandAll is expand over a list.
func expandAll(list []string, vars map[string]string) []string {
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = expand(s, vars)
	}
	return out
}

// usesPort reports whether a plain server's command or env carries its
// port.
func usesPort(lists ...[]string) bool {
	for _, l := range lists {
		for _, s := range l {
			if strings.Contains(s, "{"+phPort+"}") || strings.Contains(s, "{"+phAddr+"}") {
				return true
			}
		}
	}
	return false
}
