package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/color/palette"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"io/fs"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flipbench/flipbench/contract"
	"github.com/flipbench/flipbench/internal/testproc"
)

// Test inputs, relative to the package.
const (
	smallPhoto = "../testdata/photo-1mp.jpg"
	bigPhoto   = "../testdata/photo-6.7mb.jpg"
	badDir     = "../testdata/bad"
)

// flipHeaders are on every /flip answer, errors included.
var flipHeaders = []string{contract.HeaderWorkerPID, contract.HeaderResponseTime, contract.HeaderQueueTime, contract.HeaderJobTime}

// newServer builds a Server with its work dir under t.TempDir(). At cleanup it
// checks that nothing is left in the work dir, closes the server and checks that
// the work dir is gone. The photo defaults to smallPhoto, the worker to -1.
func newServer(t *testing.T, cfg Config) *Server {
	t.Helper()
	if cfg.Image == "" {
		cfg.Image = smallPhoto
	}
	if cfg.Mode == "" {
		cfg.Mode = "standard"
		cfg.Worker = -1
	}
	cfg.TempDir = t.TempDir()
	s, err := New(cfg)
	if err != nil {
		t.Fatalf("New(%+v): %v", cfg, err)
	}
	t.Cleanup(func() {
		assertEmptyWorkDir(t, s)
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		if _, err := os.Stat(s.WorkDir()); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("work dir %s still there after Close (stat: %v)", s.WorkDir(), err)
		}
	})
	return s
}

// start serves s on a real listener on 127.0.0.1; the listener is closed (after
// every request has finished) before newServer's cleanup runs.
func start(t *testing.T, s *Server) *httptest.Server {
	t.Helper()
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return ts
}

// assertEmptyWorkDir fails if any file is left in the server's work dir.
func assertEmptyWorkDir(t *testing.T, s *Server) {
	t.Helper()
	entries, err := os.ReadDir(s.WorkDir())
	if err != nil {
		t.Errorf("read work dir: %v", err)
		return
	}
	for _, e := range entries {
		t.Errorf("left in work dir: %s", filepath.Join(s.WorkDir(), e.Name()))
	}
}

// waitFor is testproc.WaitFor with a generous deadline.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	testproc.WaitFor(t, 30*time.Second, what, cond)
}

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// answer is one HTTP answer, body read.
type answer struct {
	status int
	header http.Header
	body   []byte
}

// do sends a request and reads the whole answer. A nil body sends no body; an
// empty ctype sends no Content-Type.
func do(ctx context.Context, method, url, ctype string, body []byte) (answer, error) {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, r)
	if err != nil {
		return answer{}, err
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return answer{}, err
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: data}, nil
}

// post sends POST /flip and fails the test on a transport error.
func post(t *testing.T, base, ctype string, body []byte) answer {
	t.Helper()
	a, err := do(context.Background(), http.MethodPost, base+"/flip", ctype, body)
	if err != nil {
		t.Fatalf("POST /flip: %v", err)
	}
	return a
}

// checkFlipHeaders checks the four headers every /flip answer carries.
func checkFlipHeaders(t *testing.T, a answer) {
	t.Helper()
	if got, want := a.header.Get(contract.HeaderWorkerPID), strconv.Itoa(os.Getpid()); got != want {
		t.Errorf("%s: got %q, want %q", contract.HeaderWorkerPID, got, want)
	}
	for _, h := range flipHeaders[1:] {
		v := a.header.Get(h)
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Errorf("%s: %q does not parse: %v", h, v, err)
			continue
		}
		if d < 0 {
			t.Errorf("%s: got %v, want >= 0", h, d)
		}
	}
}

// checkError checks an error answer: the status, a JSON {"error": "..."} body.
func checkError(t *testing.T, a answer, want int) {
	t.Helper()
	if a.status != want {
		t.Errorf("status: got %d, want %d (body %s)", a.status, want, a.body)
	}
	if a.status >= 500 && want < 500 {
		t.Errorf("a client's mistake got a %d", a.status)
	}
	if ct := a.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type: got %q, want application/json", ct)
	}
	var body map[string]any
	if err := json.Unmarshal(a.body, &body); err != nil {
		t.Fatalf("error body %q is not JSON: %v", a.body, err)
	}
	msg, ok := body["error"].(string)
	if !ok || msg == "" {
		t.Errorf("error body: got %s, want {\"error\": \"...\"}", a.body)
	}
	if len(body) != 1 {
		t.Errorf("error body: got keys %v, want only \"error\"", body)
	}
}

func getHealth(t *testing.T, base string) contract.Health {
	t.Helper()
	a, err := do(context.Background(), http.MethodGet, base+"/healthz", "", nil)
	if err != nil {
		t.Fatalf("GET /healthz: %v", err)
	}
	if a.status != http.StatusOK {
		t.Fatalf("GET /healthz: status %d", a.status)
	}
	var h contract.Health
	if err := json.Unmarshal(a.body, &h); err != nil {
		t.Fatalf("GET /healthz: %v (body %s)", err, a.body)
	}
	return h
}

// pattern is a w×h image whose every pixel differs from its neighbours, so any
// row moved to the wrong place shows. seed makes images of different requests
// differ too.
func pattern(w, h, seed int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.SetNRGBA(x, y, color.NRGBA{
				R: uint8(x*37 + seed),
				G: uint8(y*53 + seed*7),
				B: uint8(x*y + seed*13),
				A: uint8(255 - (y*11+x)%64), // some translucency
			})
		}
	}
	return img
}

// palettedPattern is a w×h GIF-able image whose colours are all in palette.Plan9,
// the palette Go's GIF encoder uses, so the round trip is exact.
func palettedPattern(w, h int) *image.Paletted {
	img := image.NewPaletted(image.Rect(0, 0, w, h), palette.Plan9)
	for y := range h {
		for x := range w {
			img.SetColorIndex(x, y, uint8((y*w+x)*7%256))
		}
	}
	return img
}

func encodePNG(t *testing.T, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func encodeGIF(t *testing.T, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := gif.Encode(&b, img, nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// part is one field of a multipart body; a file has a file name.
type part struct {
	name, file, ctype string
	data              []byte
}

// multipartBody builds a multipart/form-data body; it returns the Content-Type
// (with boundary) and the body.
func multipartBody(t *testing.T, parts ...part) (string, []byte) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for _, p := range parts {
		var w io.Writer
		var err error
		switch {
		case p.file != "":
			h := make(textproto.MIMEHeader)
			h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q; filename=%q`, p.name, p.file))
			h.Set("Content-Type", p.ctype)
			w, err = mw.CreatePart(h)
		default:
			w, err = mw.CreateFormField(p.name)
		}
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(p.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return mw.FormDataContentType(), b.Bytes()
}

// assertFlippedExact checks that got is want with row y moved to h-1-y, pixel for
// pixel (compared as non-premultiplied RGBA).
func assertFlippedExact(t *testing.T, got, want image.Image) {
	t.Helper()
	if got.Bounds().Size() != want.Bounds().Size() {
		t.Fatalf("size: got %v, want %v", got.Bounds().Size(), want.Bounds().Size())
	}
	g, w := got.Bounds(), want.Bounds()
	h := w.Dy()
	bad := 0
	for y := range h {
		for x := range w.Dx() {
			gc := color.NRGBAModel.Convert(got.At(g.Min.X+x, g.Min.Y+y))
			wc := color.NRGBAModel.Convert(want.At(w.Min.X+x, w.Min.Y+h-1-y))
			if gc != wc {
				if bad < 5 {
					t.Errorf("pixel (%d,%d): got %v, want %v (input row %d)", x, y, gc, wc, h-1-y)
				}
				bad++
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d pixels differ", bad)
	}
}

// meanDiff is the mean absolute difference per channel between got and want,
// with want's rows read through row(y); every step-th pixel is sampled.
func meanDiff(got, want image.Image, row func(y int) int, step int) float64 {
	b := want.Bounds()
	var sum, n float64
	for y := 0; y < b.Dy(); y += step {
		for x := 0; x < b.Dx(); x += step {
			r1, g1, b1, _ := got.At(got.Bounds().Min.X+x, got.Bounds().Min.Y+y).RGBA()
			r2, g2, b2, _ := want.At(b.Min.X+x, b.Min.Y+row(y)).RGBA()
			sum += absDiff(r1, r2) + absDiff(g1, g2) + absDiff(b1, b2)
			n += 3
		}
	}
	return sum / n / 257 // 8-bit units
}

func absDiff(a, b uint32) float64 {
	if a > b {
		return float64(a - b)
	}
	return float64(b - a)
}

// assertFlippedJPEG checks that got has want's size and is much closer to want
// flipped vertically than to want itself (a JPEG round trip is lossy).
func assertFlippedJPEG(t *testing.T, got, want image.Image) {
	t.Helper()
	if got.Bounds().Size() != want.Bounds().Size() {
		t.Fatalf("size: got %v, want %v", got.Bounds().Size(), want.Bounds().Size())
	}
	h := want.Bounds().Dy()
	flipped := meanDiff(got, want, func(y int) int { return h - 1 - y }, 3)
	same := meanDiff(got, want, func(y int) int { return y }, 3)
	if flipped > 4 || flipped*4 > same {
		t.Errorf("mean difference: %.2f to the input flipped, %.2f to the input unflipped; want the first small", flipped, same)
	}
}

func TestGetPID(t *testing.T) {
	ts := start(t, newServer(t, Config{}))
	a, err := do(context.Background(), http.MethodGet, ts.URL+"/", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if a.status != http.StatusOK {
		t.Errorf("status: got %d, want 200", a.status)
	}
	if got, want := string(a.body), strconv.Itoa(os.Getpid()); got != want {
		t.Errorf("body: got %q, want %q", got, want)
	}
	if ct := a.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("Content-Type: got %q, want text/plain", ct)
	}
}

func TestNewDefaults(t *testing.T) {
	s := newServer(t, Config{})
	if got, want := s.Capacity(), runtime.GOMAXPROCS(0); got != want {
		t.Errorf("Capacity with Config.Capacity 0: got %d, want GOMAXPROCS %d", got, want)
	}
	if got, want := filepath.Base(s.WorkDir()), "flipbench-"+strconv.Itoa(os.Getpid()); got != want {
		t.Errorf("work dir name: got %s, want %s", got, want)
	}
	if fi, err := os.Stat(s.WorkDir()); err != nil || !fi.IsDir() {
		t.Errorf("work dir %s: not a dir after New (%v)", s.WorkDir(), err)
	}
	s3 := newServer(t, Config{Capacity: 3})
	if got := s3.Capacity(); got != 3 {
		t.Errorf("Capacity with Config.Capacity 3: got %d, want 3", got)
	}
}

func TestNewRemovesStaleWorkDirs(t *testing.T) {
	base := t.TempDir()
	// No pid is ever this large on Linux (pid_max is at most 2^22).
	stale := filepath.Join(base, "flipbench-999999999")
	live := filepath.Join(base, "flipbench-"+strconv.Itoa(os.Getppid()))
	other := filepath.Join(base, "something-else")
	for _, d := range []string{stale, live, other} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(stale, "job-1.jpg"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := New(Config{Image: smallPhoto, TempDir: base, Worker: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := os.Stat(stale); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("stale work dir of a dead pid survived New (stat: %v)", err)
	}
	for _, d := range []string{live, other} {
		if _, err := os.Stat(d); err != nil {
			t.Errorf("%s: removed by New, want kept (%v)", d, err)
		}
	}
}

func TestNewRejects(t *testing.T) {
	textAsImage := filepath.Join(t.TempDir(), "photo.jpg")
	if err := os.WriteFile(textAsImage, []byte("this is not a photo\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		cfg  Config
	}{
		{"missing image", Config{Image: filepath.Join(t.TempDir(), "nope.jpg")}},
		{"no image at all", Config{}},
		{"text file as image", Config{Image: textAsImage}},
		{"bad/text.jpg as image", Config{Image: filepath.Join(badDir, "text.jpg")}},
		{"empty file as image", Config{Image: filepath.Join(badDir, "empty.jpg")}},
		{"image over the pixel limit", Config{Image: filepath.Join(badDir, "huge-header.png")}},
		{"photo over a small pixel limit", Config{Image: smallPhoto, MaxPixels: 1000}},
		{"a directory as image", Config{Image: badDir}},
		{"negative MaxQueue", Config{Image: smallPhoto, MaxQueue: -1}},
		{"negative MaxBody", Config{Image: smallPhoto, MaxBody: -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := t.TempDir()
			tt.cfg.TempDir = base
			s, err := New(tt.cfg)
			if err == nil {
				s.Close()
				t.Fatalf("New(%+v): got nil error, want one", tt.cfg)
			}
			if s != nil {
				t.Errorf("New returned a server with error %v", err)
			}
			entries, _ := os.ReadDir(base)
			for _, e := range entries {
				t.Errorf("a failed New left %s in the temp dir", e.Name())
			}
		})
	}
}

func TestHealthz(t *testing.T) {
	s := newServer(t, Config{Mode: "threaded", Worker: 3, Capacity: 2})
	ts := start(t, s)

	a, err := do(context.Background(), http.MethodGet, ts.URL+"/healthz", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if ct := a.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type: got %q, want application/json", ct)
	}
	var raw map[string]any
	if err := json.Unmarshal(a.body, &raw); err != nil {
		t.Fatalf("body %s: %v", a.body, err)
	}
	for _, k := range []string{"pid", "mode", "worker", "gomaxprocs", "capacity", "workers", "uptime_seconds", "in_flight", "queued", "done", "failed"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("healthz has no %q: %s", k, a.body)
		}
	}

	h := getHealth(t, ts.URL)
	want := contract.Health{
		PID:           os.Getpid(),
		Mode:          "threaded",
		Worker:        3,
		GOMAXPROCS:    runtime.GOMAXPROCS(0),
		Capacity:      2,
		Workers:       1,
		UptimeSeconds: h.UptimeSeconds, // checked below
	}
	if h != want {
		t.Errorf("healthz: got %+v, want %+v", h, want)
	}
	if h.UptimeSeconds < 0 {
		t.Errorf("uptime_seconds: got %v, want >= 0", h.UptimeSeconds)
	}

	// The counters move: a flip is done, a bad upload that reached the job failed,
	// one refused at the door counts as neither.
	steps := []struct {
		name       string
		ctype      string
		file       string
		status     int
		done, fail int64
	}{
		{"photo", "", "", http.StatusOK, 1, 0},
		{"truncated upload", "image/jpeg", "truncated.jpg", http.StatusBadRequest, 1, 1},
		{"photo again", "", "", http.StatusOK, 2, 1},
		{"text as image/jpeg", "image/jpeg", "text.jpg", http.StatusBadRequest, 2, 1},
	}
	for _, st := range steps {
		var body []byte
		if st.file != "" {
			body = readFile(t, filepath.Join(badDir, st.file))
		}
		a := post(t, ts.URL, st.ctype, body)
		if a.status != st.status {
			t.Errorf("%s: status %d, want %d (%s)", st.name, a.status, st.status, a.body)
		}
		h := getHealth(t, ts.URL)
		if h.Done != st.done || h.Failed != st.fail {
			t.Errorf("after %s: done=%d failed=%d, want done=%d failed=%d", st.name, h.Done, h.Failed, st.done, st.fail)
		}
		if h.InFlight != 0 || h.Queued != 0 {
			t.Errorf("after %s: in_flight=%d queued=%d, want 0 and 0", st.name, h.InFlight, h.Queued)
		}
	}
	if h2 := getHealth(t, ts.URL); h2.UptimeSeconds < h.UptimeSeconds {
		t.Errorf("uptime went back: %v then %v", h.UptimeSeconds, h2.UptimeSeconds)
	}
}

func TestFlipPhoto(t *testing.T) {
	fi, err := os.Stat(smallPhoto)
	if err != nil {
		t.Fatal(err)
	}
	s := newServer(t, Config{Mode: "clustered", Worker: 1})
	ts := start(t, s)

	a := post(t, ts.URL, "", nil)
	if a.status != http.StatusOK {
		t.Fatalf("status: got %d, want 200 (%s)", a.status, a.body)
	}
	checkFlipHeaders(t, a)
	if ct := a.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type: got %q, want application/json", ct)
	}
	var raw map[string]any
	if err := json.Unmarshal(a.body, &raw); err != nil {
		t.Fatalf("body %s: %v", a.body, err)
	}
	for _, k := range []string{"pid", "worker", "queue_ms", "job_ms", "bytes", "steps_ms"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("answer has no %q: %s", k, a.body)
		}
	}
	var got FlipAnswer
	if err := json.Unmarshal(a.body, &got); err != nil {
		t.Fatal(err)
	}
	if got.PID != os.Getpid() || got.Worker != 1 || got.Bytes != fi.Size() {
		t.Errorf("answer: got pid=%d worker=%d bytes=%d, want pid=%d worker=1 bytes=%d", got.PID, got.Worker, got.Bytes, os.Getpid(), fi.Size())
	}
	if got.JobMS <= 0 || got.QueueMS < 0 {
		t.Errorf("times: job_ms=%v queue_ms=%v, want job_ms > 0, queue_ms >= 0", got.JobMS, got.QueueMS)
	}
	st := got.Steps
	for name, v := range map[string]float64{"copy": st.Copy, "open": st.Open, "flip": st.Flip, "save": st.Save, "delete": st.Delete} {
		if v < 0 {
			t.Errorf("steps_ms.%s: got %v, want >= 0", name, v)
		}
	}
	if st.Open <= 0 || st.Save <= 0 {
		t.Errorf("steps_ms: open=%v save=%v, want both > 0", st.Open, st.Save)
	}
	if sum := st.Copy + st.Open + st.Flip + st.Save + st.Delete; sum > got.JobMS*1.01+0.01 {
		t.Errorf("steps add up to %v ms, more than job_ms %v", sum, got.JobMS)
	}
	jobTime, _ := time.ParseDuration(a.header.Get(contract.HeaderJobTime))
	respTime, _ := time.ParseDuration(a.header.Get(contract.HeaderResponseTime))
	if jobTime <= 0 {
		t.Errorf("%s: got %v, want > 0 after a job", contract.HeaderJobTime, jobTime)
	}
	if respTime < jobTime {
		t.Errorf("%s %v is less than %s %v", contract.HeaderResponseTime, respTime, contract.HeaderJobTime, jobTime)
	}
}

// An explicit empty body (Content-Length: 0) with no Content-Type is the same
// article request as no body at all.
func TestFlipPhotoEmptyBody(t *testing.T) {
	ts := start(t, newServer(t, Config{}))
	a := post(t, ts.URL, "", []byte{})
	if a.status != http.StatusOK {
		t.Fatalf("status: got %d, want 200 (%s)", a.status, a.body)
	}
	checkFlipHeaders(t, a)
}

func TestFlipUploads(t *testing.T) {
	pngIn := pattern(7, 5, 0) // odd height: the middle row stays put
	pngBytes := encodePNG(t, pngIn)
	gifIn := palettedPattern(9, 6)
	gifBytes := encodeGIF(t, gifIn)
	jpegBytes := readFile(t, smallPhoto)
	jpegIn, err := jpeg.Decode(bytes.NewReader(jpegBytes))
	if err != nil {
		t.Fatal(err)
	}
	mpPNGType, mpPNG := multipartBody(t,
		part{name: "note", data: []byte("a field before the image")},
		part{name: "image", file: "in.png", ctype: "image/png", data: pngBytes},
		part{name: "after", data: []byte("and one after")},
	)
	mpJPEGType, mpJPEG := multipartBody(t, part{name: "image", file: "in.jpg", ctype: "image/jpeg", data: jpegBytes})
	mpGIFType, mpGIF := multipartBody(t, part{name: "image", data: gifBytes}) // a plain field works too

	tests := []struct {
		name       string
		ctype      string
		body       []byte
		wantFormat string
		check      func(t *testing.T, got image.Image)
	}{
		{"raw png", "image/png", pngBytes, "png", func(t *testing.T, got image.Image) { assertFlippedExact(t, got, pngIn) }},
		{"raw png with parameters", "image/png; name=in.png", pngBytes, "png", func(t *testing.T, got image.Image) { assertFlippedExact(t, got, pngIn) }},
		{"raw gif", "image/gif", gifBytes, "gif", func(t *testing.T, got image.Image) { assertFlippedExact(t, got, gifIn) }},
		{"raw jpeg", "image/jpeg", jpegBytes, "jpeg", func(t *testing.T, got image.Image) { assertFlippedJPEG(t, got, jpegIn) }},
		{"multipart png among other fields", mpPNGType, mpPNG, "png", func(t *testing.T, got image.Image) { assertFlippedExact(t, got, pngIn) }},
		{"multipart jpeg", mpJPEGType, mpJPEG, "jpeg", func(t *testing.T, got image.Image) { assertFlippedJPEG(t, got, jpegIn) }},
		{"multipart gif", mpGIFType, mpGIF, "gif", func(t *testing.T, got image.Image) { assertFlippedExact(t, got, gifIn) }},
	}
	s := newServer(t, Config{Capacity: 1})
	ts := start(t, s)
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := post(t, ts.URL, tt.ctype, tt.body)
			if a.status != http.StatusOK {
				t.Fatalf("status: got %d, want 200 (%s)", a.status, a.body)
			}
			checkFlipHeaders(t, a)
			if got, want := a.header.Get("Content-Type"), "image/"+tt.wantFormat; got != want {
				t.Errorf("Content-Type: got %q, want %q", got, want)
			}
			got, format, err := image.Decode(bytes.NewReader(a.body))
			if err != nil {
				t.Fatalf("answer does not decode: %v", err)
			}
			if format != tt.wantFormat {
				t.Errorf("answer format: got %s, want %s", format, tt.wantFormat)
			}
			tt.check(t, got)
			if h := getHealth(t, ts.URL); h.Done != int64(i+1) || h.Failed != 0 {
				t.Errorf("healthz: done=%d failed=%d, want done=%d failed=0", h.Done, h.Failed, i+1)
			}
		})
	}
}

// Concurrent uploads each get their own image back, flipped.
func TestFlipConcurrentUploads(t *testing.T) {
	s := newServer(t, Config{Capacity: 2})
	ts := start(t, s)
	const n = 12
	ins := make([]*image.NRGBA, n)
	bodies := make([][]byte, n)
	for i := range n {
		ins[i] = pattern(16+i, 9+i, i*31)
		bodies[i] = encodePNG(t, ins[i])
	}
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			in := ins[i]
			a, err := do(context.Background(), http.MethodPost, ts.URL+"/flip", "image/png", bodies[i])
			if err != nil {
				t.Errorf("request %d: %v", i, err)
				return
			}
			if a.status != http.StatusOK {
				t.Errorf("request %d: status %d (%s)", i, a.status, a.body)
				return
			}
			got, err := png.Decode(bytes.NewReader(a.body))
			if err != nil {
				t.Errorf("request %d: %v", i, err)
				return
			}
			assertFlippedExact(t, got, in)
		})
	}
	wg.Wait()
	if h := getHealth(t, ts.URL); h.Done != n || h.Failed != 0 || h.InFlight != 0 || h.Queued != 0 {
		t.Errorf("healthz after %d uploads: %+v", n, h)
	}
}

// Concurrent article requests all finish and never collide in the work dir.
func TestFlipPhotoConcurrent(t *testing.T) {
	fi, err := os.Stat(smallPhoto)
	if err != nil {
		t.Fatal(err)
	}
	s := newServer(t, Config{Capacity: 2})
	ts := start(t, s)
	const n = 4
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			a, err := do(context.Background(), http.MethodPost, ts.URL+"/flip", "", nil)
			if err != nil {
				t.Errorf("request %d: %v", i, err)
				return
			}
			if a.status != http.StatusOK {
				t.Errorf("request %d: status %d (%s)", i, a.status, a.body)
				return
			}
			var got FlipAnswer
			if err := json.Unmarshal(a.body, &got); err != nil || got.Bytes != fi.Size() {
				t.Errorf("request %d: bytes %d, want %d (err %v)", i, got.Bytes, fi.Size(), err)
			}
		})
	}
	wg.Wait()
	if h := getHealth(t, ts.URL); h.Done != n || h.Failed != 0 {
		t.Errorf("healthz after %d flips: done=%d failed=%d", n, h.Done, h.Failed)
	}
}

func TestFlipBadInputs(t *testing.T) {
	bad := func(name string) []byte { return readFile(t, filepath.Join(badDir, name)) }
	photo := readFile(t, smallPhoto)
	hugeMPType, hugeMP := multipartBody(t, part{name: "image", file: "huge.png", ctype: "image/png", data: bad("huge-header.png")})
	noFieldType, noField := multipartBody(t, part{name: "picture", file: "in.jpg", ctype: "image/jpeg", data: photo})
	emptyFieldType, emptyField := multipartBody(t, part{name: "image", file: "in.jpg", ctype: "image/jpeg"})
	textFieldType, textField := multipartBody(t, part{name: "image", file: "in.jpg", ctype: "image/jpeg", data: bad("text.jpg")})
	bigMPType, bigMP := multipartBody(t, part{name: "image", file: "in.jpg", ctype: "image/jpeg", data: photo})
	_, noBoundary := multipartBody(t, part{name: "image", data: photo})
	// A photo within a small pixel limit, so New accepts it.
	tinyPhoto := filepath.Join(t.TempDir(), "tiny.png")
	if err := os.WriteFile(tinyPhoto, encodePNG(t, pattern(10, 10, 0)), 0o600); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name   string
		cfg    Config
		ctype  string
		body   []byte
		status int
		jobRan bool // the upload got past the header check into a job
	}{
		{"empty.jpg as image/jpeg", Config{}, "image/jpeg", bad("empty.jpg"), http.StatusBadRequest, false},
		{"empty body as image/png", Config{}, "image/png", []byte{}, http.StatusBadRequest, false},
		{"text.jpg as image/jpeg", Config{}, "image/jpeg", bad("text.jpg"), http.StatusBadRequest, false},
		{"text.jpg as text/plain", Config{}, "text/plain", bad("text.jpg"), http.StatusUnsupportedMediaType, false},
		{"text.jpg without Content-Type", Config{}, "", bad("text.jpg"), http.StatusUnsupportedMediaType, false},
		{"photo without Content-Type", Config{}, "", photo, http.StatusUnsupportedMediaType, false},
		{"photo as application/octet-stream", Config{}, "application/octet-stream", photo, http.StatusUnsupportedMediaType, false},
		{"photo as image/webp", Config{}, "image/webp", photo, http.StatusUnsupportedMediaType, false},
		{"unparsable Content-Type", Config{}, "image/", photo, http.StatusUnsupportedMediaType, false},
		{"truncated.jpg as image/jpeg", Config{}, "image/jpeg", bad("truncated.jpg"), http.StatusBadRequest, true},
		{"huge-header.png as image/png", Config{}, "image/png", bad("huge-header.png"), http.StatusRequestEntityTooLarge, false},
		{"huge-header.png in multipart", Config{}, hugeMPType, hugeMP, http.StatusRequestEntityTooLarge, false},
		{"upload over MaxPixels", Config{Image: tinyPhoto, MaxPixels: 1000}, "image/png", encodePNG(t, pattern(40, 30, 0)), http.StatusRequestEntityTooLarge, false},
		{"body over MaxBody", Config{MaxBody: 4096}, "image/jpeg", photo, http.StatusRequestEntityTooLarge, false},
		{"body over MaxBody without Content-Type", Config{MaxBody: 4096}, "", photo, http.StatusRequestEntityTooLarge, false},
		{"multipart over MaxBody", Config{MaxBody: 4096}, bigMPType, bigMP, http.StatusRequestEntityTooLarge, false},
		{"multipart without the image field", Config{}, noFieldType, noField, http.StatusBadRequest, false},
		{"multipart with an empty image field", Config{}, emptyFieldType, emptyField, http.StatusBadRequest, false},
		{"multipart with text in the image field", Config{}, textFieldType, textField, http.StatusBadRequest, false},
		{"multipart without boundary", Config{}, "multipart/form-data", noBoundary, http.StatusBadRequest, false},
		{"multipart with a wrong boundary", Config{}, "multipart/form-data; boundary=nope", noBoundary, http.StatusBadRequest, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.Capacity = 1
			s := newServer(t, tt.cfg)
			ts := start(t, s)
			a := post(t, ts.URL, tt.ctype, tt.body)
			checkError(t, a, tt.status)
			checkFlipHeaders(t, a)
			if !tt.jobRan {
				// Contract: queue and job time are 0s when no job ran.
				for _, h := range []string{contract.HeaderQueueTime, contract.HeaderJobTime} {
					if got := a.header.Get(h); got != "0s" {
						t.Errorf("%s: got %q, want \"0s\" (no job ran)", h, got)
					}
				}
			}
			// The server stays up and serves the next request.
			if ok := post(t, ts.URL, "image/png", encodePNG(t, pattern(3, 2, 1))); ok.status != http.StatusOK {
				t.Errorf("a good upload after the bad one: status %d (%s)", ok.status, ok.body)
			}
			h := getHealth(t, ts.URL)
			wantFailed := int64(0)
			if tt.jobRan {
				wantFailed = 1
			}
			if h.Done != 1 || h.Failed != wantFailed || h.InFlight != 0 || h.Queued != 0 {
				t.Errorf("healthz: done=%d failed=%d in_flight=%d queued=%d, want 1 %d 0 0", h.Done, h.Failed, h.InFlight, h.Queued, wantFailed)
			}
		})
	}
}
