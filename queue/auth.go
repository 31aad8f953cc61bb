package queue

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
)

// Auth is how a NATS client proves who it is, in the forms NATS users
// already have; the embedded server checks the same form. At most one form
// is set. Secrets are values here: the caller reads them from files or the
// environment, never from a command line.
type Auth struct {
	User, Password string
	Token          string
	// NkeyFile is an nkey seed file (SU...): a client signs the server's
	// challenge with it, and the embedded server admits its public key.
	NkeyFile string
	// CredsFile is a .creds file (a user JWT and its seed), for a server in
	// operator mode; the embedded server does not run one.
	CredsFile string
}

// ErrNoCredentials is a broker asked to listen beyond loopback without
// credentials.
var ErrNoCredentials = errors.New("a NATS server reachable beyond loopback needs credentials")

// Set reports whether any credential is given.
func (a Auth) Set() bool {
	return a.User != "" || a.Password != "" || a.Token != "" || a.NkeyFile != "" || a.CredsFile != ""
}

// check refuses a half-given or doubly-given credential.
func (a Auth) check() error {
	forms := 0
	for _, set := range []bool{a.User != "" || a.Password != "", a.Token != "", a.NkeyFile != "", a.CredsFile != ""} {
		if set {
			forms++
		}
	}
	switch {
	case forms > 1:
		return errors.New("nats credentials: give one of user and password, a token, an nkey or a .creds file")
	case (a.User == "") != (a.Password == ""):
		return errors.New("nats credentials: a user needs a password, and a password a user")
	}
	return nil
}

// ClientOptions are the nats.go options that present a's credential.
func (a Auth) ClientOptions() ([]nats.Option, error) {
	if err := a.check(); err != nil {
		return nil, err
	}
	switch {
	case a.User != "":
		return []nats.Option{nats.UserInfo(a.User, a.Password)}, nil
	case a.Token != "":
		return []nats.Option{nats.Token(a.Token)}, nil
	case a.NkeyFile != "":
		opt, err := nats.NkeyOptionFromSeed(a.NkeyFile)
		if err != nil {
			return nil, fmt.Errorf("nats nkey %s: %w", a.NkeyFile, err)
		}
		return []nats.Option{opt}, nil
	case a.CredsFile != "":
		if _, err := os.Stat(a.CredsFile); err != nil {
			return nil, fmt.Errorf("nats creds: %w", err)
		}
		return []nats.Option{nats.UserCredentials(a.CredsFile)}, nil
	}
	return nil, nil
}

// serverOptions makes the embedded server demand a's credential.
func (a Auth) serverOptions(o *server.Options) error {
	if err := a.check(); err != nil {
		return err
	}
	switch {
	case a.User != "":
		o.Username, o.Password = a.User, a.Password
	case a.Token != "":
		o.Authorization = a.Token
	case a.NkeyFile != "":
		pub, err := nkeyPublic(a.NkeyFile)
		if err != nil {
			return err
		}
		o.Nkeys = []*server.NkeyUser{{Nkey: pub}}
	case a.CredsFile != "":
		return errors.New("nats creds: the embedded server does not run in operator mode; use a user and password, a token or an nkey, or an external server")
	}
	return nil
}

// nkeyPublic is the public user key of the seed in file.
func nkeyPublic(file string) (string, error) {
	seed, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("nats nkey: %w", err)
	}
	defer clear(seed)
	kp, err := nkeys.ParseDecoratedNKey(seed)
	if err != nil {
		return "", fmt.Errorf("nats nkey %s: %w", file, err)
	}
	defer kp.Wipe()
	pub, err := kp.PublicKey()
	if err != nil || !nkeys.IsValidPublicUserKey(pub) {
		return "", fmt.Errorf("nats nkey %s: not a user seed", file)
	}
	return pub, nil
}

// TLS is the certificate files of one side. On the embedded server, Cert
// and Key are its certificate, and CA is handed to its local workers. On a
// client, CA verifies the server, and Cert and Key, when given, are its
// own certificate for a server that asks for one.
type TLS struct {
	Cert, Key, CA string
}

// Set reports whether any TLS file is given.
func (t TLS) Set() bool { return t.Cert != "" || t.Key != "" || t.CA != "" }

// ClientOptions are the nats.go options that make a client use TLS.
func (t TLS) ClientOptions() ([]nats.Option, error) {
	if (t.Cert == "") != (t.Key == "") {
		return nil, errors.New("nats tls: a certificate needs its key, and a key its certificate")
	}
	var opts []nats.Option
	if t.CA != "" {
		opts = append(opts, nats.RootCAs(t.CA))
	}
	if t.Cert != "" {
		opts = append(opts, nats.ClientCert(t.Cert, t.Key))
	}
	return opts, nil
}

// serverConfig is the embedded server's TLS, nil without a certificate.
func (t TLS) serverConfig() (*tls.Config, error) {
	if t.Cert == "" && t.Key == "" {
		return nil, nil
	}
	if t.Cert == "" || t.Key == "" {
		return nil, errors.New("nats tls: the server needs a certificate and its key")
	}
	cert, err := tls.LoadX509KeyPair(t.Cert, t.Key)
	if err != nil {
		return nil, fmt.Errorf("nats tls: %w", err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}

// VerifyFor checks that the server certificate in t.Cert is valid for host
// under t.CA (system roots without one), so a front finds out at its start
// that its own local workers could not dial it.
func (t TLS) VerifyFor(host string) error {
	pair, err := tls.LoadX509KeyPair(t.Cert, t.Key)
	if err != nil {
		return fmt.Errorf("nats tls: %w", err)
	}
	leaf, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		return fmt.Errorf("nats tls: %w", err)
	}
	opts := x509.VerifyOptions{DNSName: host, Intermediates: x509.NewCertPool()}
	for _, c := range pair.Certificate[1:] {
		if ic, err := x509.ParseCertificate(c); err == nil {
			opts.Intermediates.AddCert(ic)
		}
	}
	if t.CA != "" {
		pem, err := os.ReadFile(t.CA)
		if err != nil {
			return fmt.Errorf("nats tls: %w", err)
		}
		opts.Roots = x509.NewCertPool()
		if !opts.Roots.AppendCertsFromPEM(pem) {
			return fmt.Errorf("nats tls: no certificate in %s", t.CA)
		}
	}
	if _, err := leaf.Verify(opts); err != nil {
		return fmt.Errorf("nats tls: the certificate does not verify for %s: %w", host, err)
	}
	return nil
}
