package main

import (
	"flag"
	"fmt"
	"net/url"
	"path/filepath"
	"slices"
	"strings"

	"github.com/flipbench/flipbench/contract"
	"github.com/flipbench/flipbench/internal/access"
	"github.com/flipbench/flipbench/queue"
)

// natsFlags are the credential and TLS flags a front and a worker share.
// Secrets are named by file (or come from the environment): a flag value is
// on every process listing.
type natsFlags struct {
	user, passwordFile, tokenFile, nkey, creds string
	cert, key, ca                              string
}

// registerNATSFlags adds the flags to fs; server says whether the
// certificate is an embedded server's (the front) or a client's.
func registerNATSFlags(fs *flag.FlagSet, server bool) *natsFlags {
	f := &natsFlags{}
	fs.StringVar(&f.user, contract.FlagNATSUser, "", "NATS `user`; the password comes from -"+contract.FlagNATSPasswordFile+" or $"+contract.EnvNATSPassword)
	fs.StringVar(&f.passwordFile, contract.FlagNATSPasswordFile, "", "`file` holding the NATS user's password")
	fs.StringVar(&f.tokenFile, contract.FlagNATSTokenFile, "", "`file` holding a NATS token (or set $"+contract.EnvNATSToken+")")
	fs.StringVar(&f.nkey, contract.FlagNATSNkey, "", "NATS nkey seed `file` (SU...; make one with nk -gen user)")
	fs.StringVar(&f.creds, contract.FlagNATSCreds, "", "NATS .creds `file` (a user JWT and its seed) for a server in operator mode")
	certUse := "TLS client certificate `file` for a NATS server that asks for one"
	caUse := "CA certificate `file` that verifies the NATS server's certificate (default the system's roots)"
	if server {
		certUse = "TLS certificate `file` of the embedded NATS server (with -" + contract.FlagNATS + ": the front's client certificate)"
		caUse = "CA certificate `file` of the NATS server's certificate, for the local workers (with -" + contract.FlagNATS + ": the front's)"
	}
	fs.StringVar(&f.cert, contract.FlagNATSCert, "", certUse)
	fs.StringVar(&f.key, contract.FlagNATSKey, "", "private key `file` of -"+contract.FlagNATSCert)
	fs.StringVar(&f.ca, contract.FlagNATSCA, "", caUse)
	return f
}

// noSecretInURL refuses a -nats URL list with a user or password in it:
// a flag value is on every process listing.
func noSecretInURL(urls string) error {
	for _, raw := range strings.Split(urls, ",") {
		u, err := url.Parse(strings.TrimSpace(raw))
		if err != nil {
			return fmt.Errorf("-%s: a URL does not parse", contract.FlagNATS)
		}
		if u.User != nil {
			// Not echoed: the URL holds the secret.
			return fmt.Errorf("-%s: a URL with a credential in it shows in ps; use -%s with -%s, or -%s",
				contract.FlagNATS, contract.FlagNATSUser, contract.FlagNATSPasswordFile, contract.FlagNATSTokenFile)
		}
	}
	return nil
}

// resolve reads the secrets and returns the credential and the TLS files.
func (f *natsFlags) resolve() (queue.Auth, queue.TLS, error) {
	a := queue.Auth{User: f.user, NkeyFile: f.nkey, CredsFile: f.creds}
	var err error
	if f.user != "" || f.passwordFile != "" {
		if a.Password, err = access.Secret(f.passwordFile, contract.EnvNATSPassword); err != nil {
			return a, queue.TLS{}, err
		}
	}
	if a.Token, err = access.Secret(f.tokenFile, contract.EnvNATSToken); err != nil {
		return a, queue.TLS{}, err
	}
	return a, queue.TLS{Cert: f.cert, Key: f.key, CA: f.ca}, nil
}

// workerArgs are the flags that hand the front's credential and CA to its
// local workers: names of files, never a secret.
func (f *natsFlags) workerArgs() []string {
	var args []string
	if f.user != "" {
		args = append(args, contract.Arg(contract.FlagNATSUser, f.user))
	}
	for name, file := range map[string]string{
		contract.FlagNATSPasswordFile: f.passwordFile, contract.FlagNATSTokenFile: f.tokenFile,
		contract.FlagNATSNkey: f.nkey, contract.FlagNATSCA: f.ca,
	} {
		if file == "" {
			continue
		}
		// A worker's working dir need not be the front's.
		if abs, err := filepath.Abs(file); err == nil {
			file = abs
		}
		args = append(args, contract.Arg(name, file))
	}
	slices.Sort(args)
	return args
}
