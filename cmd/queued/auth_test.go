package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flipbench/flipbench/contract"
	"github.com/flipbench/flipbench/internal/testcert"
	"github.com/flipbench/flipbench/internal/testproc"
)

// secretFile writes secret to a file of its own and returns its path.
func secretFile(t *testing.T, secret string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(p, []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// failed waits for p to exit and returns its output; t fails unless the
// exit was an error.
func (p *proc) failed(t *testing.T) string {
	t.Helper()
	// A refused credential ends the worker at once; an untrusted
	// certificate after its first JetStream call times out.
	testproc.WaitFor(t, 60*time.Second, "the process to give up", func() bool { return isClosed(p.exited) })
	if p.err == nil {
		t.Errorf("exit 0, want a failure")
	}
	return p.out.String()
}

// isClosed reports whether ch is closed.
func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// TestOpenBrokerRefused: an embedded broker on every interface without
// credentials stops the front with one line naming the flags; with
// -nats-insecure it starts and the log warns.
func TestOpenBrokerRefused(t *testing.T) {
	p := launch(t, nil, contract.Arg(contract.FlagAddr, "127.0.0.1:0"), contract.Arg(contract.FlagImage, photo),
		contract.Arg(contract.FlagWorkers, "0"), contract.Arg(contract.FlagNATSListen, "0.0.0.0:0"))
	out := strings.TrimSpace(p.failed(t))
	if strings.Contains(out, "\n") || !strings.HasPrefix(out, "queued: ") {
		t.Errorf("output %q: want one line", out)
	}
	for _, flag := range []string{contract.FlagNATSUser, contract.FlagNATSTokenFile, contract.FlagNATSNkey, contract.FlagNATSInsecure} {
		if !strings.Contains(out, "-"+flag) {
			t.Errorf("the refusal %q does not name -%s", out, flag)
		}
	}
	open, _ := front(t, 0, contract.Arg(contract.FlagWorkers, "0"), contract.Arg(contract.FlagNATSListen, "0.0.0.0:0"),
		"-"+contract.FlagNATSInsecure)
	if !strings.Contains(open.out.String(), "level=WARN") || !strings.Contains(open.out.String(), contract.FlagNATSInsecure) {
		t.Errorf("-%s: no warning in the log:\n%s", contract.FlagNATSInsecure, open.out)
	}
	open.stop(t)
}

// TestBrokerAuth: a front whose broker demands a password, over TLS, gets
// its local worker in with the credential it hands on; a worker with no
// credential, a wrong one, or no trust in the CA cannot join; one with the
// password from the environment does.
func TestBrokerAuth(t *testing.T) {
	certs := testcert.Write(t, "127.0.0.1")
	password := secretFile(t, "correct horse")
	tlsArgs := []string{contract.Arg(contract.FlagNATSCA, certs.CA)}
	p, base := front(t, 1, contract.Arg(contract.FlagWorkers, "1"), contract.Arg(contract.FlagNATSListen, "127.0.0.1:0"),
		contract.Arg(contract.FlagNATSUser, "flip"), contract.Arg(contract.FlagNATSPasswordFile, password),
		contract.Arg(contract.FlagNATSCert, certs.Cert), contract.Arg(contract.FlagNATSKey, certs.Key), tlsArgs[0])
	url := p.natsURL(t)
	worker := func(args ...string) *proc {
		return launch(t, nil, append([]string{contract.CommandWorker, contract.Arg(contract.FlagNATS, url),
			contract.Arg(contract.FlagImage, photo), contract.Arg(contract.FlagSlots, "1")}, args...)...)
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no credential", tlsArgs, "Authorization Violation"},
		{"a wrong password", append([]string{contract.Arg(contract.FlagNATSUser, "flip"),
			contract.Arg(contract.FlagNATSPasswordFile, secretFile(t, "wrong"))}, tlsArgs...), "Authorization Violation"},
		{"no trust in the CA", []string{contract.Arg(contract.FlagNATSUser, "flip"),
			contract.Arg(contract.FlagNATSPasswordFile, password)}, "certificate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := worker(tc.args...).failed(t)
			if !strings.Contains(out, tc.want) {
				t.Errorf("the worker's output lacks %q:\n%s", tc.want, out)
			}
			lines := strings.Split(strings.TrimSpace(out), "\n")
			t.Logf("the worker's last line: %s", lines[len(lines)-1])
		})
	}
	if h, err := health(base); err != nil || h.Capacity != 1 {
		t.Errorf("healthz: %+v, %v; want only the local worker's slot", h, err)
	}
	t.Setenv(contract.EnvNATSPassword, "correct horse")
	w := worker(append([]string{contract.Arg(contract.FlagNATSUser, "flip")}, tlsArgs...)...)
	waitCapacity(t, base, 2)
	w.stop(t)
	testproc.WaitFor(t, 10*time.Second, "the worker's leaving", func() bool {
		h, err := health(base)
		return err == nil && h.Capacity == 1
	})
	p.stop(t)
}
