package trial

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/flipbench/flipbench/internal/procfs"
	"github.com/flipbench/flipbench/runfolder"
)

// CollectEnv describes this machine and the image; what it cannot find out it
// leaves empty or "unknown" rather than failing, except for the image, which
// must be readable.
func CollectEnv(ctx context.Context, image string) (runfolder.Env, error) {
	e := runfolder.Env{
		Date:      time.Now().Format(time.RFC3339),
		CPUModel:  cpuModel(),
		Cores:     runtime.NumCPU(),
		Kernel:    kernelRelease(),
		OS:        runtime.GOOS,
		Arch:      runtime.GOARCH,
		GoVersion: runtime.Version(),
		Image:     image,
	}
	e.Hostname, _ = os.Hostname()
	e.MemoryBytes = procfs.MemTotal()
	e.GitCommit, e.GitDirty = gitCommit(ctx)
	if image != "" {
		sum, n, err := FileSHA256(image)
		if err != nil {
			return e, fmt.Errorf("describe image: %w", err)
		}
		e.ImageSHA256, e.ImageBytes = sum, n
	}
	return e, nil
}

// FileSHA256 returns the hex SHA-256 and size of the file at path.
func FileSHA256(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, fmt.Errorf("hash %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

func kernelRelease() string {
	b, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(b))
}

func gitCommit(ctx context.Context) (string, bool) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "git", "rev-parse", "HEAD").Output()
	if err != nil {
		return "unknown", false
	}
	status, err := exec.CommandContext(ctx, "git", "status", "--porcelain", "--untracked-files=no").Output()
	return strings.TrimSpace(string(out)), err == nil && len(strings.TrimSpace(string(status))) > 0
}

// BinarySums hashes each binary; a binary that cannot be read is left out.
func BinarySums(paths map[string]string) map[string]string {
	sums := map[string]string{}
	for name, p := range paths {
		if sum, _, err := FileSHA256(p); err == nil {
			sums[filepath.Base(p)+" ("+name+")"] = sum
		}
	}
	return sums
}
