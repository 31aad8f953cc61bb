package loadtest

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// File suffixes of one level's outputs, after its base name (e.g. "burst-100").
const (
	SuffixResults = ".bin"          // raw vegeta results, gob (vegeta report/plot read it)
	SuffixText    = ".txt"          // vegeta's text report
	SuffixJSON    = ".json"         // vegeta's JSON report
	SuffixHDR     = ".hdr.txt"      // vegeta's HDR histogram plot file
	SuffixMetrics = ".metrics.json" // our Metrics
)

// LevelFiles returns the names of every file a level called name writes.
func LevelFiles(name string) []string {
	return []string{
		name + SuffixResults, name + SuffixText, name + SuffixJSON,
		name + SuffixHDR, name + SuffixMetrics,
	}
}

// BurstName is the base name of the files of a burst of n requests.
func BurstName(n int) string { return fmt.Sprintf("burst-%d", n) }

// WriteLevel writes rs and its reports into dir as <name>.bin, .txt, .json,
// .hdr.txt and .metrics.json.
func WriteLevel(dir, name string, rs vegeta.Results, m Metrics) error {
	return writeRun(dir, name, rs, m)
}

// WriteKeepAlive writes the results of a keep-alive run and its reports into
// dir as a level's files are written; its .metrics.json holds m.
func WriteKeepAlive(dir, name string, rs vegeta.Results, m KeepAliveMetrics) error {
	return writeRun(dir, name, rs, m)
}

// writeRun writes rs (.bin) and every report of it, m being our metrics.
func writeRun(dir, name string, rs vegeta.Results, m any) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	base := filepath.Join(dir, name)
	if err := writeFile(base+SuffixResults, func(w io.Writer) error {
		enc := vegeta.NewEncoder(w)
		for i := range rs {
			if err := enc.Encode(&rs[i]); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return err
	}
	return writeReports(dir, name, rs, m)
}

// WriteReports writes a level's reports (everything but the raw results).
func WriteReports(dir, name string, rs vegeta.Results, m Metrics) error {
	return writeReports(dir, name, rs, m)
}

// WriteKeepAliveReports writes a keep-alive run's reports (everything but the
// raw results).
func WriteKeepAliveReports(dir, name string, rs vegeta.Results, m KeepAliveMetrics) error {
	return writeReports(dir, name, rs, m)
}

func writeReports(dir, name string, rs vegeta.Results, m any) error {
	return writeReportFiles(dir, name, VegetaMetrics(rs), m)
}

// writeReportFiles writes vegeta's reports of vm and our metrics m.
func writeReportFiles(dir, name string, vm *vegeta.Metrics, m any) error {
	base := filepath.Join(dir, name)
	for _, f := range []struct {
		suffix string
		rep    vegeta.Reporter
	}{
		{SuffixText, vegeta.NewTextReporter(vm)},
		{SuffixJSON, vegeta.NewJSONReporter(vm)},
		{SuffixHDR, vegeta.NewHDRHistogramPlotReporter(vm)},
	} {
		if err := writeFile(base+f.suffix, f.rep.Report); err != nil {
			return err
		}
	}
	return WriteJSON(base+SuffixMetrics, m)
}

// VegetaMetrics returns vegeta's own metrics of rs.
func VegetaMetrics(rs vegeta.Results) *vegeta.Metrics {
	var vm vegeta.Metrics
	for i := range rs {
		vm.Add(&rs[i])
	}
	vm.Close()
	return &vm
}

// ReadResults decodes a results file written by WriteLevel (or by vegeta
// attack) and returns its results sorted by send time.
func ReadResults(path string) (vegeta.Results, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read results: %w", err)
	}
	defer f.Close()
	dec := vegeta.NewDecoder(bufio.NewReader(f))
	var rs vegeta.Results
	for {
		var r vegeta.Result
		if err := dec.Decode(&r); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return nil, fmt.Errorf("read results %s: result %d: %w", path, len(rs)+1, err)
		}
		rs = append(rs, r)
	}
	rs.Close()
	return rs, nil
}

// WriteJSON writes v as indented JSON to path.
func WriteJSON(path string, v any) error {
	return writeFile(path, func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	})
}

// ReadJSON reads the JSON file at path into v.
func ReadJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read %s: %w", filepath.Base(path), err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	return nil
}

// writeFile writes path through a buffer, reporting the first error of
// write, flush or close.
func writeFile(path string, write func(io.Writer) error) (err error) {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("write %s: %w", path, cerr)
		}
	}()
	bw := bufio.NewWriter(f)
	if err := write(bw); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// MergeResults reads the results files of one attack fired from several
// hosts (vegeta's pattern: one .bin per load host) and returns all their
// results as one run, sorted by send time. The hosts' clocks must agree
// (NTP) for the makespan across them to mean anything.
func MergeResults(paths ...string) (vegeta.Results, error) {
	var all vegeta.Results
	for _, p := range paths {
		rs, err := ReadResults(p)
		if err != nil {
			return nil, err
		}
		all = append(all, rs...)
	}
	all.Close()
	return all, nil
}
