package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/flipbench/flipbench/contract"
	"github.com/flipbench/flipbench/internal/testcert"
)

// TestSecurityFlagRefusals runs the command in process with a cancelled
// context: each command line must fail before anything starts, with one
// line that says why and does not echo a secret.
func TestSecurityFlagRefusals(t *testing.T) {
	pw := secretFile(t, "pw")
	tok := secretFile(t, "tok")
	certs := testcert.Write(t, "10.9.9.9")
	base := []string{contract.Arg(contract.FlagAddr, "127.0.0.1:0"), contract.Arg(contract.FlagImage, photo), contract.Arg(contract.FlagWorkers, "0")}
	worker := []string{contract.CommandWorker, contract.Arg(contract.FlagImage, photo)}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"a password in the URL", append(worker, contract.Arg(contract.FlagNATS, "nats://u:hunter2@h:4222")), "shows in ps"},
		{"a token in the URL", append(base, contract.Arg(contract.FlagNATS, "nats://h1:4222,nats://hunter2@h:4222")), "shows in ps"},
		{"open beyond loopback", append(base, contract.Arg(contract.FlagNATSListen, "0.0.0.0:0")), "-" + contract.FlagNATSInsecure},
		{"monitoring open beyond loopback", append(base, contract.Arg(contract.FlagNATSMonitor, "0.0.0.0:0")), "-" + contract.FlagNATSInsecure},
		{"monitoring of an external server", append(base, contract.Arg(contract.FlagNATS, "nats://h:4222"), contract.Arg(contract.FlagNATSMonitor, "127.0.0.1:0")), "http_port"},
		{"insecure with an external server", append(base, contract.Arg(contract.FlagNATS, "nats://h:4222"), "-"+contract.FlagNATSInsecure), "excludes"},
		{"two credential forms", append(base, contract.Arg(contract.FlagNATSUser, "u"), contract.Arg(contract.FlagNATSPasswordFile, pw),
			contract.Arg(contract.FlagNATSTokenFile, tok)), "give one of"},
		{"a user without a password", append(base, contract.Arg(contract.FlagNATSUser, "u")), "needs a password"},
		{"creds on the embedded server", append(base, contract.Arg(contract.FlagNATSCreds, tok)), "operator mode"},
		{"replicas on the embedded server", append(base, contract.Arg(contract.FlagReplicas, "3")), "needs a NATS cluster"},
		{"a CA without a certificate", append(base, contract.Arg(contract.FlagNATSCA, certs.CA)), "-" + contract.FlagNATSCert},
		{"a certificate local workers cannot use", []string{contract.Arg(contract.FlagAddr, "127.0.0.1:0"), contract.Arg(contract.FlagImage, photo),
			contract.Arg(contract.FlagWorkers, "1"), contract.Arg(contract.FlagNATSTokenFile, tok),
			contract.Arg(contract.FlagNATSCert, certs.Cert), contract.Arg(contract.FlagNATSKey, certs.Key), contract.Arg(contract.FlagNATSCA, certs.CA)}, "127.0.0.1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(contract.EnvNATSPassword, "")
			t.Setenv(contract.EnvNATSToken, "")
			ctx, cancel := context.WithCancel(t.Context())
			cancel()
			var stdout, stderr bytes.Buffer
			code := run(ctx, tc.args, &stdout, &stderr)
			out := strings.TrimSpace(stderr.String())
			if code != 1 || strings.Contains(out, "\n") || !strings.Contains(out, tc.want) {
				t.Errorf("exit %d, stderr %q: want 1 and one line with %q", code, out, tc.want)
			}
			if strings.Contains(out, "hunter2") {
				t.Errorf("the error echoes the secret: %q", out)
			}
		})
	}
}

// TestWorkerArgsCarryNoSecret: what a front hands its local workers is the
// user name and absolute file names, whichever form the credential takes.
func TestWorkerArgsCarryNoSecret(t *testing.T) {
	f := &natsFlags{user: "flip", passwordFile: "rel/pass", tokenFile: "/abs/tok", nkey: "u.nk", ca: "ca.pem", cert: "c.pem", key: "k.pem"}
	args := f.workerArgs()
	got := strings.Join(args, " ")
	for _, name := range []string{contract.FlagNATSUser, contract.FlagNATSPasswordFile, contract.FlagNATSTokenFile, contract.FlagNATSNkey, contract.FlagNATSCA} {
		if !strings.Contains(got, "--"+name+"=") {
			t.Errorf("worker args %q lack -%s", got, name)
		}
	}
	for _, a := range args {
		name, value, _ := strings.Cut(strings.TrimPrefix(a, "--"), "=")
		if name != contract.FlagNATSUser && !strings.HasPrefix(value, "/") {
			t.Errorf("%s: not an absolute path", a)
		}
	}
	// The server's own certificate and key are not a worker's.
	if strings.Contains(got, "c.pem") || strings.Contains(got, "k.pem") {
		t.Errorf("worker args %q carry the server's certificate", got)
	}
}
