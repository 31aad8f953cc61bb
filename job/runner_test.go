package job

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
)

const smallPhoto = "../testdata/photo-1mp.jpg"

// assertEmptyDir fails unless dir exists and holds nothing.
func assertEmptyDir(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		t.Errorf("left behind: %s", filepath.Join(dir, e.Name()))
	}
}

func TestRunnerRun(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e Engine) {
		base := t.TempDir()
		r, err := e.NewRunner(smallPhoto, base, 0)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := r.Dir(), filepath.Join(base, "flipbench-"+strconv.Itoa(os.Getpid())); got != want {
			t.Errorf("work dir: got %s, want %s", got, want)
		}
		res, err := r.Run(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(smallPhoto)
		if err != nil {
			t.Fatal(err)
		}
		if res.Bytes != fi.Size() {
			t.Errorf("bytes copied: got %d, want %d", res.Bytes, fi.Size())
		}
		if res.Width != 1332 || res.Height != 749 {
			t.Errorf("size: got %dx%d, want 1332x749", res.Width, res.Height)
		}
		if res.Saved == 0 || res.Total <= 0 || res.Steps.Open <= 0 || res.Steps.Save <= 0 {
			t.Errorf("result not filled in: %+v", res)
		}
		assertEmptyDir(t, r.Dir())
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(r.Dir()); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("work dir still there after Close: %v", err)
		}
	})
}

func TestRunnerConcurrentJobsNeverCollide(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e Engine) {
		r, err := e.NewRunner(smallPhoto, t.TempDir(), 0)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		var wg sync.WaitGroup
		errs := make(chan error, 20)
		for range 20 {
			wg.Go(func() {
				if _, err := r.Run(context.Background()); err != nil {
					errs <- err
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		assertEmptyDir(t, r.Dir())
	})
}

func TestRunnerErrorPathsLeaveNothing(t *testing.T) {
	t.Run("cancelled", func(t *testing.T) {
		r, err := NewRunner(smallPhoto, t.TempDir(), 0)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := r.Run(ctx); !errors.Is(err, context.Canceled) {
			t.Fatalf("got %v, want context.Canceled", err)
		}
		assertEmptyDir(t, r.Dir())
	})
	t.Run("photo corrupted after start", func(t *testing.T) {
		forEachEngine(t, func(t *testing.T, e Engine) {
			dir := t.TempDir()
			photo := filepath.Join(dir, "photo.jpg")
			good, err := os.ReadFile(smallPhoto)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(photo, good, 0o600); err != nil {
				t.Fatal(err)
			}
			r, err := e.NewRunner(photo, dir, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			if err := os.WriteFile(photo, good[:len(good)/4], 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := r.Run(context.Background()); !errors.Is(err, ErrDecode) {
				t.Fatalf("got %v, want ErrDecode", err)
			}
			assertEmptyDir(t, r.Dir())
		})
	})
	t.Run("panic", func(t *testing.T) {
		r, err := NewRunner(smallPhoto, t.TempDir(), 0)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		func() {
			defer func() { _ = recover() }()
			r.Run(panicCtx{Context: context.Background()})
		}()
		assertEmptyDir(t, r.Dir())
	})
}

// panicCtx panics when the job first checks it: after the copy exists.
type panicCtx struct{ context.Context }

func (panicCtx) Err() error { panic("boom") }

func TestNewRunnerRejects(t *testing.T) {
	tests := []struct {
		name, image string
		maxPixels   int
		want        error
	}{
		{"missing", "../testdata/nope.jpg", 0, os.ErrNotExist},
		{"text", "../testdata/bad/text.jpg", 0, ErrFormat},
		{"empty", "../testdata/bad/empty.jpg", 0, ErrEmpty},
		{"huge header", "../testdata/bad/huge-header.png", 0, ErrTooManyPixels},
		{"over limit", smallPhoto, 1000, ErrTooManyPixels},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewRunner(tt.image, t.TempDir(), tt.maxPixels)
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
}

func TestRemoveStale(t *testing.T) {
	base := t.TempDir()
	// A pid that surely is dead: a child we started and reaped.
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	dead := filepath.Join(base, "flipbench-"+strconv.Itoa(cmd.Process.Pid))
	live := filepath.Join(base, "flipbench-"+strconv.Itoa(os.Getppid()))
	other := filepath.Join(base, "flipbench-notapid")
	for _, d := range []string{dead, live, other} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dead, "job-1.jpg"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := NewRunner(smallPhoto, base, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for _, tt := range []struct {
		dir  string
		want bool
	}{{dead, false}, {live, true}, {other, true}, {r.Dir(), true}} {
		_, err := os.Stat(tt.dir)
		if got := err == nil; got != tt.want {
			t.Errorf("%s exists: got %v, want %v", tt.dir, got, tt.want)
		}
	}
}
