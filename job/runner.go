package job

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/disintegration/imaging"

	"github.com/flipbench/flipbench/internal/procfs"
)

// workDirPrefix names each process's work dir: <base>/flipbench-<pid>.
const workDirPrefix = "flipbench-"

// Steps is the time each step of one job took.
type Steps struct {
	Copy   time.Duration `json:"copy"`
	Open   time.Duration `json:"open"`
	Flip   time.Duration `json:"flip"`
	Save   time.Duration `json:"save"`
	Delete time.Duration `json:"delete"`
}

// Result is what one run of the article's job did.
type Result struct {
	Bytes  int64 // bytes copied from the photo
	Saved  int64 // bytes of the flipped photo written back
	Width  int
	Height int
	Steps  Steps
	Total  time.Duration
}

// Runner runs the article's job on one photo: copy it into this process's work dir
// under a unique name, open it, flip it vertically, save it back, delete it.
type Runner struct {
	engine Engine
	image  string
	format string // the photo's format, as Check names it; the job saves in it
	dir    string
}

// NewRunner is Engine.NewRunner with imaging.
func NewRunner(image, base string, maxPixels int) (*Runner, error) {
	return Engine{}.NewRunner(image, base, maxPixels)
}

// NewRunner checks the photo (readable, a supported format, within maxPixels) and
// creates this process's work dir <base>/flipbench-<pid>, removing the work dirs of
// processes that no longer exist; its jobs run on e. An empty base means os.TempDir().
func (e Engine) NewRunner(image, base string, maxPixels int) (*Runner, error) {
	// imaging.Save picks the encoder by extension: refuse a name it cannot save
	// now rather than fail every request later.
	if _, err := imaging.FormatFromFilename(image); err != nil {
		return nil, fmt.Errorf("photo %s: %w: %v", image, ErrFormat, err)
	}
	f, err := os.Open(image)
	if err != nil {
		return nil, fmt.Errorf("open photo: %w", err)
	}
	if fi, err := f.Stat(); err == nil && fi.Size() == 0 {
		f.Close()
		return nil, fmt.Errorf("photo %s: %w", image, ErrEmpty)
	}
	format, _, err := checkHeader(f, maxPixels)
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("photo %s: %w", image, err)
	}
	if base == "" {
		base = os.TempDir()
	}
	if err := RemoveStale(base); err != nil {
		return nil, err
	}
	dir := WorkDir(base, os.Getpid())
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create work dir: %w", err)
	}
	return &Runner{engine: e, image: image, format: format, dir: dir}, nil
}

// WorkDir is the work dir of process pid under base: a crashed process's dir can be
// found, and removed, by its pid.
func WorkDir(base string, pid int) string {
	return filepath.Join(base, workDirPrefix+strconv.Itoa(pid))
}

// Dir is the runner's work dir.
func (r *Runner) Dir() string { return r.dir }

// Close removes the work dir and anything left in it.
func (r *Runner) Close() error {
	if err := os.RemoveAll(r.dir); err != nil {
		return fmt.Errorf("remove work dir: %w", err)
	}
	return nil
}

// Run does the job once. The copy is removed on every path out, a panic included;
// ctx is checked between steps, so a cancelled request stops at the next one.
func (r *Runner) Run(ctx context.Context) (res Result, err error) {
	start := time.Now()
	tmp, err := os.CreateTemp(r.dir, "job-*"+strings.ToLower(filepath.Ext(r.image)))
	if err != nil {
		return res, fmt.Errorf("create copy: %w", err)
	}
	name := tmp.Name()
	deleted := false
	defer func() {
		if !deleted {
			os.Remove(name)
		}
	}()

	mark := time.Now()
	res.Bytes, err = copyFrom(tmp, r.image)
	res.Steps.Copy = time.Since(mark)
	if err != nil {
		return res, err
	}
	if err := ctx.Err(); err != nil {
		return res, fmt.Errorf("before open: %w", err)
	}

	// A lazy engine (libvips) only reads the header in open and builds the flip in
	// flip: its pixel work all shows in save.
	mark = time.Now()
	pic, err := r.engine.codec().decodeFile(name)
	res.Steps.Open = time.Since(mark)
	if err != nil {
		return res, fmt.Errorf("open copy: %w", err)
	}
	defer pic.close()
	res.Width, res.Height = pic.size()
	if err := ctx.Err(); err != nil {
		return res, fmt.Errorf("before flip: %w", err)
	}

	mark = time.Now()
	err = pic.flipV()
	res.Steps.Flip = time.Since(mark)
	if err != nil {
		return res, fmt.Errorf("flip: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return res, fmt.Errorf("before save: %w", err)
	}

	mark = time.Now()
	err = saveFile(pic, name, r.format)
	res.Steps.Save = time.Since(mark)
	if err != nil {
		return res, fmt.Errorf("save copy: %w", err)
	}
	if fi, err := os.Stat(name); err == nil {
		res.Saved = fi.Size()
	}

	mark = time.Now()
	err = os.Remove(name)
	res.Steps.Delete = time.Since(mark)
	if err != nil {
		return res, fmt.Errorf("delete copy: %w", err)
	}
	deleted = true
	res.Total = time.Since(start)
	return res, nil
}

func copyFrom(dst *os.File, src string) (int64, error) {
	in, err := os.Open(src)
	if err != nil {
		dst.Close()
		return 0, fmt.Errorf("open photo: %w", err)
	}
	defer in.Close()
	n, err := io.Copy(dst, in)
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return n, fmt.Errorf("copy photo: %w", err)
	}
	return n, nil
}

// RemoveStale removes work dirs under base whose process no longer exists, left by
// a process that crashed before it could clean up.
func RemoveStale(base string) error { return procfs.RemoveDead(base, workDirPrefix) }
