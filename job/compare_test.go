package job

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/disintegration/imaging"
)

// maxMeanAbsError is how far, in mean absolute error per channel on the 0-255 scale,
// another engine's JPEG may be from imaging's for the same input. Each re-encodes a
// JPEG at quality 95 with 4:2:0 chroma, but with its own DCT, colour conversion and
// chroma upsampling: measured here 1.23 (libvips and sharp, both libjpeg-turbo) and
// 1.95 (Jimp) on the 1 MP photo.
const maxMeanAbsError = 3.0

// meanAbsError is the mean absolute difference per channel (R, G, B) of two images of
// one size.
func meanAbsError(a, b image.Image) (float64, error) {
	if a.Bounds().Size() != b.Bounds().Size() {
		return 0, fmt.Errorf("sizes differ: %v and %v", a.Bounds().Size(), b.Bounds().Size())
	}
	na, nb := imaging.Clone(a), imaging.Clone(b)
	var sum uint64
	for i := range na.Pix {
		if i%4 == 3 { // alpha: opaque in both
			continue
		}
		d := int(na.Pix[i]) - int(nb.Pix[i])
		sum += uint64(max(d, -d))
	}
	return float64(sum) / float64(len(na.Pix)/4*3), nil
}

// nodeFlip flips a copy of the photo with the Node app's engine name and returns the
// bytes it wrote; it skips the test without node or the app's node_modules.
func nodeFlip(t *testing.T, engine string, photo []byte) []byte {
	t.Helper()
	nodeBin, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not on the PATH")
	}
	app, err := filepath.Abs(filepath.Join("..", "nodeapp"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(app, "node_modules")); err != nil {
		t.Skip("nodeapp/node_modules missing: run make build (npm ci)")
	}
	file := filepath.Join(t.TempDir(), "in.jpg")
	if err := os.WriteFile(file, photo, 0o600); err != nil {
		t.Fatal(err)
	}
	script := `require(process.argv[1]).loadEngine(process.argv[2]).flipInPlace(process.argv[3]).catch((e) => { console.error(e); process.exit(1); });`
	out, err := exec.Command(nodeBin, "-e", script, filepath.Join(app, "engines.js"), engine, file).CombinedOutput()
	if err != nil {
		t.Fatalf("node %s: %v\n%s", engine, err, out)
	}
	flipped, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return flipped
}

// TestEnginesAgree: for the same photo, every engine's output (Go's imaging and
// libvips, Node's Jimp and sharp) is a JPEG of the vertically flipped input, within
// maxMeanAbsError of imaging's output and of the flipped input, and far from a
// horizontal flip.
func TestEnginesAgree(t *testing.T) {
	photo, err := os.ReadFile(smallPhoto)
	if err != nil {
		t.Fatal(err)
	}
	var ref bytes.Buffer
	if _, err := FlipBytes(photo, &ref, 0); err != nil {
		t.Fatal(err)
	}
	want, err := jpeg.Decode(&ref)
	if err != nil {
		t.Fatal(err)
	}
	src, err := jpeg.Decode(bytes.NewReader(photo))
	if err != nil {
		t.Fatal(err)
	}
	flippedInput, wrongWay := imaging.FlipV(src), imaging.FlipH(src)

	check := func(t *testing.T, out []byte) {
		got, err := jpeg.Decode(bytes.NewReader(out))
		if err != nil {
			t.Fatalf("output is not a JPEG: %v", err)
		}
		mae, err := meanAbsError(got, want)
		if err != nil {
			t.Fatal(err)
		}
		far, err := meanAbsError(got, wrongWay)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("mean absolute error against imaging's output: %.2f; against a horizontal flip: %.1f", mae, far)
		if mae > maxMeanAbsError {
			t.Errorf("mean absolute error %.2f against imaging's output, want at most %.1f", mae, maxMeanAbsError)
		}
		if d, err := meanAbsError(got, flippedInput); err != nil || d > maxMeanAbsError {
			t.Errorf("output is %.2f from the flipped input itself (%v), want at most %.1f", d, err, maxMeanAbsError)
		}
		if far < 10*maxMeanAbsError {
			t.Errorf("output is %.1f from a horizontal flip: not clearly a vertical one", far)
		}
	}
	t.Run("go", func(t *testing.T) {
		forEachEngine(t, func(t *testing.T, e Engine) {
			var out bytes.Buffer
			if _, err := e.FlipBytes(photo, &out, 0); err != nil {
				t.Fatal(err)
			}
			check(t, out.Bytes())
		})
	})
	for _, engine := range []string{"sharp", "jimp"} {
		t.Run("node-"+engine, func(t *testing.T) {
			check(t, nodeFlip(t, engine, photo))
		})
	}
}
