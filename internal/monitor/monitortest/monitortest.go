// Package monitortest checks what a flipbench process serves on /metrics
// (scraped with testproc.Fetch): its histograms' series, and Prometheus's
// own linter, promtool.
package monitortest

import (
	"bytes"
	"os/exec"
	"testing"

	dto "github.com/prometheus/client_model/go"

	"github.com/flipbench/flipbench/internal/promhist"
)

// Histograms are the histogram series of name in fams whose labels
// include every pair of want.
func Histograms(fams map[string]*dto.MetricFamily, name string, want map[string]string) []*dto.Histogram {
	var out []*dto.Histogram
	f := fams[name]
	if f == nil || f.GetType() != dto.MetricType_HISTOGRAM {
		return nil
	}
	for _, m := range f.GetMetric() {
		if promhist.HasLabels(m, want) {
			out = append(out, m.GetHistogram())
		}
	}
	return out
}

// Count is the observations of hs together.
func Count(hs []*dto.Histogram) uint64 {
	var n uint64
	for _, h := range hs {
		n += h.GetSampleCount()
	}
	return n
}

// CheckBuckets fails t unless each of hs has buckets, counts that never
// go down, and a last bucket (+Inf) below or at its count.
func CheckBuckets(t testing.TB, name string, hs []*dto.Histogram) {
	t.Helper()
	for _, h := range hs {
		bs := h.GetBucket()
		if len(bs) == 0 {
			t.Errorf("%s: a series without _bucket lines", name)
			continue
		}
		for i := 1; i < len(bs); i++ {
			if bs[i].GetCumulativeCount() < bs[i-1].GetCumulativeCount() {
				t.Errorf("%s: bucket le=%v has %d, below le=%v's %d", name, bs[i].GetUpperBound(), bs[i].GetCumulativeCount(),
					bs[i-1].GetUpperBound(), bs[i-1].GetCumulativeCount())
			}
		}
		if last := bs[len(bs)-1].GetCumulativeCount(); last > h.GetSampleCount() {
			t.Errorf("%s: last bucket %d above the count %d", name, last, h.GetSampleCount())
		}
	}
}

// Promtool runs `promtool check metrics` on text and fails t on a problem
// it reports. Without promtool on the PATH it skips t, saying so: call it
// last, once every other check has run.
func Promtool(t testing.TB, text []byte) {
	t.Helper()
	path, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("promtool is not on the PATH (Debian: apt-get install prometheus): the metrics were not linted")
	}
	cmd := exec.Command(path, "check", "metrics")
	cmd.Stdin = bytes.NewReader(text)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
}

// Want is a histogram's expected observations: those of every series of
// Name whose labels include Labels, together.
type Want struct {
	Name   string
	Labels map[string]string
	Count  uint64
}

// Check fails t unless each of wants has its count in fams, in buckets
// that pass CheckBuckets.
func Check(t testing.TB, fams map[string]*dto.MetricFamily, wants ...Want) {
	t.Helper()
	for _, w := range wants {
		hs := Histograms(fams, w.Name, w.Labels)
		if got := Count(hs); got != w.Count {
			t.Errorf("%s%v counts %d in %d series, want %d", w.Name, w.Labels, got, len(hs), w.Count)
		}
		CheckBuckets(t, w.Name, hs)
	}
}
