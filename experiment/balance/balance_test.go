package balance

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flipbench/flipbench/experiment/experimenttest"
	"github.com/flipbench/flipbench/loadtest"
	"github.com/flipbench/flipbench/runfolder"
	"github.com/flipbench/flipbench/server/servertest"
	"github.com/flipbench/flipbench/trial"
)

func balanceConfig(t *testing.T, out string, log *bytes.Buffer) Config {
	s := experimenttest.Settings(t, out, log, "FAKESERVER_DELAY=10ms")
	s.Warmups = 2
	return Config{Settings: s, Sizes: []int{3, 5}, Runs: 3}
}

func TestBalanceWritesItsFolder(t *testing.T) {
	out := filepath.Join(t.TempDir(), "balance")
	var log bytes.Buffer
	run, err := Run(context.Background(), balanceConfig(t, out, &log))
	if err != nil {
		t.Fatalf("balance: %v\nlog:\n%s", err, log.String())
	}
	stored := experimenttest.WriteAndLoad(t, out, run, Write, Load)
	if run.S <= 0 || stored.S != run.S {
		t.Errorf("S = %s (stored %s), want standard's calibration", run.S, stored.S)
	}
	ran := map[string]bool{}
	for _, pr := range stored.Policies {
		if _, err := trial.LookupMode(pr.Mode); err != nil {
			// rr and none until bench has their modes: said, not run.
			if !strings.Contains(pr.Skipped, "no mode") || len(pr.Trials) > 0 {
				t.Errorf("%s: skipped %q with %d trials", pr.Balance, pr.Skipped, len(pr.Trials))
			}
			if !strings.Contains(log.String(), "skip "+pr.Balance+":") {
				t.Errorf("log does not say %s was skipped:\n%s", pr.Balance, log.String())
			}
			continue
		}
		ran[pr.Balance] = true
		if pr.Skipped != "" || len(pr.Problems) > 0 {
			t.Errorf("%s: skipped %q, problems %v", pr.Balance, pr.Skipped, pr.Problems)
		}
		if len(pr.Trials) != 6 {
			t.Fatalf("%s: %d trials, want 3 runs × 2 sizes", pr.Balance, len(pr.Trials))
		}
		if len(pr.Noise) != 3 || pr.Noise[2].Run != 3 {
			t.Errorf("%s: noise %+v, want one per run", pr.Balance, pr.Noise)
		}
		for _, tr := range pr.Trials {
			sum := 0
			for _, c := range tr.Split {
				sum += c
			}
			if sum != tr.Size || tr.Successes != tr.Size || len(tr.Split) != 2 {
				t.Errorf("%s %s: split %v of %d answers, want 2 workers adding up to %d", pr.Balance, tr.Name, tr.Split, tr.Successes, tr.Size)
			}
			if tr.Ratio <= 0 || tr.Ideal <= 0 {
				t.Errorf("%s %s: ratio %g, ideal %s", pr.Balance, tr.Name, tr.Ratio, tr.Ideal)
			}
			rs, err := loadtest.ReadResults(filepath.Join(out, pr.Balance, tr.Name+loadtest.SuffixResults))
			if err != nil || len(rs) != tr.Size {
				t.Errorf("%s %s: read back %d results, %v", pr.Balance, tr.Name, len(rs), err)
			}
		}
	}
	if !ran["reuseport"] || !ran["shared"] || !ran["rr"] || !ran["none"] {
		t.Errorf("policies that ran: %v, want all four", ran)
	}
	md, err := os.ReadFile(filepath.Join(out, FileMD))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| reuseport | clustered | 3 | 3 | 9/9 |", "| shared | shared | 5 | 3 | 15/15 |", "| rr | rr | 3 | 3 | 9/9 |", "balance-ratio.svg", "Machine noise per trial"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("balance.md lacks %q:\n%s", want, md)
		}
	}
	servertest.RequireFiles(t, filepath.Join(out, runfolder.FileEnv), filepath.Join(out, "balance-ratio.svg"), filepath.Join(out, "balance-split.svg"),
		filepath.Join(out, runfolder.DirS, runfolder.FileServerLog), filepath.Join(out, "shared", runfolder.FileServerLog))

	// A second run into the same folder clears the first's files.
	if err := os.WriteFile(filepath.Join(out, "shared", "burst-99-run-01.bin"), []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := balanceConfig(t, out, &log)
	cfg.Policies, cfg.Sizes, cfg.Runs = []string{"shared"}, []int{2}, 1
	if _, err := Run(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(out, "shared", "burst-99-run-01.bin")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("an old run's file survived: %v", err)
	}
}

func TestBalanceHelloTarget(t *testing.T) {
	out := filepath.Join(t.TempDir(), "balance")
	var log bytes.Buffer
	cfg := balanceConfig(t, out, &log)
	// Args come after -workers, so their -workers wins.
	cfg.Target, cfg.Workers, cfg.Args, cfg.Policies, cfg.Sizes = TargetHello, 3, []string{"--workers=4"}, []string{"none", "shared"}, []int{8}
	run, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatalf("balance: %v\nlog:\n%s", err, log.String())
	}
	if run.S != 0 || strings.Contains(log.String(), "calibration") {
		t.Errorf("the hello target calibrated (S = %s): it has no job", run.S)
	}
	// Report order, whatever the order asked for.
	if len(run.Policies) != 2 || run.Policies[1].Balance != "none" {
		t.Fatalf("policies %+v, want shared then none", run.Policies)
	}
	pr := run.Policies[0]
	if pr.Balance != "shared" || pr.Spec.Workers != 4 || len(pr.Trials) != 3 {
		t.Fatalf("shared: %d workers, %d trials; want 4 workers (-workers, then Args) and 3 trials", pr.Spec.Workers, len(pr.Trials))
	}
	for _, tr := range pr.Trials {
		if len(tr.Split) != 4 || tr.Successes != 8 || tr.Ratio != 0 {
			t.Errorf("%s: split %v, %d ok, ratio %g; want 4 workers, 8 answers, no ratio", tr.Name, tr.Split, tr.Successes, tr.Ratio)
		}
	}
	if _, err := Write(out, run); err != nil {
		t.Fatal(err)
	}
	md, _ := os.ReadFile(filepath.Join(out, FileMD))
	for _, want := range []string{"top 2 workers' share of all connections", "| shared | shared | 4 | 8 | 3 | 24/24 |", "| none | none | 4 | 8 | 3 | 24/24 |"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("balance.md lacks %q:\n%s", want, md)
		}
	}
	if _, err := os.Stat(filepath.Join(out, "balance-ratio.svg")); err == nil {
		t.Error("a hello run drew makespan / ideal, which it has not")
	}
	servertest.RequireFiles(t, filepath.Join(out, "balance-split.svg"))
}

// A policy whose server cannot run here is skipped with its reason; with
// none left, the run says why.
func TestBalanceSkipsWhatCannotRun(t *testing.T) {
	out := filepath.Join(t.TempDir(), "balance")
	var log bytes.Buffer
	cfg := balanceConfig(t, out, &log)
	cfg.BinDir = servertest.LinkBin(t, "standard")
	cfg.Policies = []string{"shared", "rr"}
	_, err := Run(context.Background(), cfg)
	if err == nil || !strings.Contains(err.Error(), "no policy can run here") || !strings.Contains(err.Error(), "clustered not found") {
		t.Fatalf("err = %v, want no policy can run, naming the missing binary", err)
	}
	if !strings.Contains(log.String(), "skip rr: ") || !strings.Contains(log.String(), "skip shared: ") {
		t.Errorf("the log does not say what was skipped:\n%s", log.String())
	}
}

func TestBalanceStats(t *testing.T) {
	at := func(k int, ratio float64, pids map[string]int) Trial {
		m := loadtest.Metrics{Workers: pids, Successes: 10}
		tr := newTrial(10, k, 2, m, 0)
		tr.Ratio = ratio
		return tr
	}
	run := &Result{Sizes: []int{10}, Policies: []PolicyRun{{
		Policy: Policy{Balance: "reuseport", Mode: "clustered"}, Spec: trial.Spec{Workers: 2},
		Trials: []Trial{
			at(1, 1.05, map[string]int{"1": 5, "2": 5}),
			at(2, 1.60, map[string]int{"1": 9, "2": 1}),
			at(3, 1.10, map[string]int{"1": 4, "2": 6}),
			at(4, 1.30, map[string]int{"1": 10}),
		},
	}}}
	st := run.Stats()
	if len(st) != 1 {
		t.Fatalf("%d stats, want 1", len(st))
	}
	s := st[0]
	if s.Runs != 4 || s.Requests != 40 {
		t.Errorf("runs %d, requests %d", s.Runs, s.Requests)
	}
	if s.MaxShare != (Spread{Min: 0.5, Median: 0.6, Max: 1}) {
		t.Errorf("max share %+v", s.MaxShare)
	}
	if s.Ratio != (Spread{Min: 1.05, Median: 1.10, Max: 1.60}) || s.Within != 0.5 {
		t.Errorf("ratio %+v, within %g", s.Ratio, s.Within)
	}
	// A worker that answered none is a 0 in the split, not left out.
	if got := splitsText(s.Splits, 6); got != "10/0 ×1, 5/5 ×1, 6/4 ×1, 9/1 ×1" {
		t.Errorf("splits %q", got)
	}
	// Over every run, worker 1 gave 28 of 40 and worker 2 12: the top two are all.
	if s.OverallTop2 != 1 {
		t.Errorf("overall top-2 share %g, want 1 with two workers", s.OverallTop2)
	}
}

func TestParsePolicies(t *testing.T) {
	if got, err := ParsePolicies(" shared, rr "); err != nil || strings.Join(got, ",") != "shared,rr" {
		t.Errorf("ParsePolicies = %v, %v", got, err)
	}
	for in, want := range map[string]string{
		"shared,bogus":  `unknown policy "bogus"`,
		"shared,shared": "listed twice",
		" , ":           "no policies",
		"clustered":     `unknown policy "clustered"`, // a mode, not a Balance
	} {
		if _, err := ParsePolicies(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParsePolicies(%q) = %v, want %q", in, err, want)
		}
	}
}

// balance.md gives the machine's noise per run, and bench's warning when
// other processes kept it busy in a run; an old run without noise, neither.
func TestBalanceReportNoise(t *testing.T) {
	experimenttest.CheckNoise(t, func(others ...float64) string {
		pr := PolicyRun{Policy: Policy{Balance: "shared", Mode: "shared"}, Spec: trial.Spec{Workers: 2}}
		for i, o := range others {
			pr.Trials = append(pr.Trials, newTrial(4, i+1, 2, loadtest.Metrics{Workers: map[string]int{"1": 2, "2": 2}, Successes: 4}, 0))
			pr.Noise = append(pr.Noise, RunNoise{Run: i + 1, Noise: runfolder.Noise{OtherCores: o, Load1: 1}})
		}
		return Render(&Result{Run: "r", Target: TargetHello, Sizes: []int{4}, Runs: len(others), Policies: []PolicyRun{pr}}, nil)
	}, "shared, round 2: other processes used 0.90 cores, steal 0.0 %, load 1.00")
}
