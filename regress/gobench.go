package regress

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os/exec"
	"strconv"
	"strings"

	"golang.org/x/perf/benchfmt"
)

// The Go benchmarks the gate runs: the article's job on the small photo, and the
// standard library's decode and encode of the same photo, the floor the job's
// time is divided by.
const (
	JobBenchmark   = "BenchmarkJob/photo-1mp"
	FloorBenchmark = "BenchmarkJPEGFloor/photo-1mp"
	benchPattern   = "^Benchmark(Job|JPEGFloor)$/^photo-1mp$"

	// The same job on libvips and on imaging, in one go test run of a libvips build.
	VipsJobBenchmark    = "BenchmarkEngineJob/vips/photo-1mp"
	ImagingJobBenchmark = "BenchmarkEngineJob/imaging/photo-1mp"
	engineBenchPattern  = "^BenchmarkEngineJob$/^(imaging|vips)$/^photo-1mp$"
	// VipsTag is the build tag of the libvips engine.
	VipsTag = "flipbench_vips"
)

// RunGoBench runs `go test -bench pattern` in pkg count times with -benchmem on
// one thread (and -tags, when given) and returns its raw output, which benchstat
// reads.
func RunGoBench(ctx context.Context, pkg, pattern string, count int, tags string) ([]byte, error) {
	// -cpu 1: the job as the standard server and each cluster worker run it.
	args := []string{"test", "-run", "^$", "-bench", pattern, "-benchmem", "-cpu", "1", "-count", strconv.Itoa(count)}
	if tags != "" {
		args = append(args, "-tags", tags)
	}
	args = append(args, pkg)
	var out, errOut bytes.Buffer
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return out.Bytes(), fmt.Errorf("go %v: %w: %s%s", args, err, out.Bytes(), errOut.Bytes())
	}
	return out.Bytes(), nil
}

// BenchValues returns, for every result of the named benchmark (its name without
// the -GOMAXPROCS suffix) in go test output, the value of unit ("B/op",
// "allocs/op", "sec/op").
func BenchValues(r io.Reader, name, unit string) ([]float64, error) {
	var vals []float64
	br := benchfmt.NewReader(r, "go test")
	for br.Scan() {
		res, ok := br.Result().(*benchfmt.Result)
		if !ok {
			continue // a syntax error or unit metadata: not a result line
		}
		full := string(res.Name.Full())
		if trimProcs(full) != strings.TrimPrefix(name, "Benchmark") {
			continue
		}
		v, ok := res.Value(unit)
		if !ok {
			return nil, fmt.Errorf("%s: no %s value", full, unit)
		}
		vals = append(vals, v)
	}
	if err := br.Err(); err != nil {
		return nil, fmt.Errorf("read benchmark output: %w", err)
	}
	if len(vals) == 0 {
		return nil, fmt.Errorf("no results for %s in the benchmark output", name)
	}
	return vals, nil
}

// trimProcs drops the -N GOMAXPROCS suffix of a benchmark name.
func trimProcs(full string) string {
	for i := len(full) - 1; i >= 0; i-- {
		c := full[i]
		if c == '-' {
			return full[:i]
		}
		if c < '0' || c > '9' {
			break
		}
	}
	return full
}
