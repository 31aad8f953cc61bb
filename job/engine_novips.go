//go:build !flipbench_vips

package job

// vipsInBuild is false: this build has no libvips (see engine_vips.go).
const vipsInBuild = false

// newVips is never called in this build: CheckEngine refuses the engine first.
func newVips() codec { panic("job: libvips engine started in a build without it") }
