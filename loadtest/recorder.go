package loadtest

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Recorder streams an attack's results to the level's .bin file as they
// come (vegeta's gob encoder, one result at a time, so vegeta report and
// ReadResults read it as ever) and folds them into vegeta's own metrics,
// holding none: with WithoutResults and an Accumulator for our metrics, a
// run's memory stays bounded whatever its length. Use it from one goroutine
// (WithOnResult calls one at a time).
//
//	rec, err := loadtest.NewRecorder(dir, name)
//	acc := loadtest.NewAccumulator(p)
//	rs, err := loadtest.Sustain(ctx, tgt, rate, d, loadtest.WithoutResults(),
//		loadtest.WithOnResult(func(r *vegeta.Result) { rec.Add(r); acc.Add(r) }))
//	m := acc.Close()
//	err = rec.Close(m) // the .bin flushed, every report written
type Recorder struct {
	dir, name string
	f         *os.File
	bw        *bufio.Writer
	enc       vegeta.Encoder
	vm        vegeta.Metrics
	err       error // the first write error
}

// NewRecorder creates <dir>/<name>.bin for the results; with dir empty it
// writes no file and only keeps vegeta's metrics.
func NewRecorder(dir, name string) (*Recorder, error) {
	rec := &Recorder{dir: dir, name: name}
	if dir == "" {
		return rec, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("record %s: %w", name, err)
	}
	f, err := os.Create(filepath.Join(dir, name+SuffixResults))
	if err != nil {
		return nil, fmt.Errorf("record %s: %w", name, err)
	}
	rec.f, rec.bw = f, bufio.NewWriter(f)
	rec.enc = vegeta.NewEncoder(rec.bw)
	return rec, nil
}

// Add writes r to the file and counts it in vegeta's metrics. A write error
// stops the writing and is returned by Close.
func (rec *Recorder) Add(r *vegeta.Result) {
	rec.vm.Add(r)
	if rec.enc == nil || rec.err != nil {
		return
	}
	if err := rec.enc.Encode(r); err != nil {
		rec.err = fmt.Errorf("record %s: %w", rec.name, err)
	}
}

// Vegeta returns vegeta's metrics of the results added so far.
func (rec *Recorder) Vegeta() *vegeta.Metrics {
	vm := rec.vm
	vm.Close()
	return &vm
}

// Close flushes and closes the .bin file and writes the level's reports
// (vegeta's text, JSON and HDR reports, and m as .metrics.json) beside it.
func (rec *Recorder) Close(m any) error {
	if rec.f == nil {
		return rec.err
	}
	err := rec.err
	if ferr := rec.bw.Flush(); err == nil && ferr != nil {
		err = fmt.Errorf("record %s: %w", rec.name, ferr)
	}
	if cerr := rec.f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("record %s: %w", rec.name, cerr)
	}
	rec.f = nil
	if err != nil {
		return err
	}
	return writeReportFiles(rec.dir, rec.name, rec.Vegeta(), m)
}
