package deploy

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// promtool is the path of promtool, or skips t with the reason.
func promtool(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("no promtool on PATH (Debian: apt-get install prometheus): deploy/'s Prometheus files go unchecked")
	}
	return p
}

// operatorDir copies the Prometheus files into a temp dir laid out as an
// operator's /etc/prometheus, with the admin token file the scrape config
// names (promtool checks that it exists). files replaces some contents.
func operatorDir(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for _, name := range []string{"prometheus.yml", "alerts.yml", "alerts_test.yml"} {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if text, ok := files[name]; ok {
			b = []byte(text)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "flipbench-admin-token"), []byte("test-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

// runPromtool runs promtool with args in dir and returns its output and
// whether it succeeded.
func runPromtool(t *testing.T, dir string, args ...string) (string, bool) {
	t.Helper()
	cmd := exec.Command(promtool(t), args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		if _, ok := err.(*exec.ExitError); !ok {
			t.Fatalf("promtool %s: %v", strings.Join(args, " "), err)
		}
	}
	return string(out), err == nil
}

// TestPromtool checks deploy/'s Prometheus files with the tool that reads
// them: the scrape config (with the rule file it loads), the rules, and
// the rules' unit tests.
func TestPromtool(t *testing.T) {
	dir := operatorDir(t, nil)
	for _, args := range [][]string{
		{"check", "config", "prometheus.yml"},
		{"check", "rules", "alerts.yml"},
		{"test", "rules", "alerts_test.yml"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			if out, ok := runPromtool(t, dir, args...); !ok {
				t.Errorf("promtool %s failed:\n%s", strings.Join(args, " "), out)
			}
		})
	}
}

// TestAlertTestsCatchAChangedRule: the unit tests pin each alert, so a
// rule whose threshold moved fails them.
func TestAlertTestsCatchAChangedRule(t *testing.T) {
	b, err := os.ReadFile("alerts.yml")
	if err != nil {
		t.Fatal(err)
	}
	const slo = "\n            > 30\n"
	if strings.Count(string(b), slo) != 1 {
		t.Fatalf("alerts.yml: the p99 SLO line %q is not there once", slo)
	}
	changed := strings.Replace(string(b), slo, "\n            > 60\n", 1)
	out, ok := runPromtool(t, operatorDir(t, map[string]string{"alerts.yml": changed}), "test", "rules", "alerts_test.yml")
	if ok || !strings.Contains(out, "FlipbenchFlipP99OverSLO") {
		t.Errorf("promtool test rules passed an SLO of 60 s, or failed on something else:\n%s", out)
	}
}

// TestDashboardQueriesParse has promtool parse every panel query, as
// recording rules: a syntax error fails here, without a server.
func TestDashboardQueriesParse(t *testing.T) {
	qs, err := DashboardQueries(DashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var rules strings.Builder
	rules.WriteString("groups:\n  - name: dashboard\n    rules:\n")
	for i, q := range qs {
		fmt.Fprintf(&rules, "      - record: dashboard:query_%d\n        expr: %q\n", i, q.Expr)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "dashboard.yml"), []byte(rules.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	out, ok := runPromtool(t, dir, "check", "rules", "dashboard.yml")
	if !ok {
		t.Fatalf("promtool check rules on the dashboard's queries:\n%s", out)
	}
	if want := fmt.Sprintf("SUCCESS: %d rules found", len(qs)); !strings.Contains(out, want) {
		t.Errorf("promtool said %q, want %q", out, want)
	}
}
