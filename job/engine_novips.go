//go:build !flipbench_vips

package job

import "errors"

// newVips says how to get the libvips engine: this build does not have it.
func newVips() (codec, error) {
	return nil, errors.New("this binary was built without libvips (build with -tags flipbench_vips and libvips-dev installed; make build does when pkg-config finds vips)")
}
