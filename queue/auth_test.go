package queue

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"

	"github.com/flipbench/flipbench/internal/testcert"
)

// startAuth starts an embedded server with cfg (a loopback port and a temp
// store added); cleanup stops it.
func startAuth(t *testing.T, cfg EmbeddedConfig) *Embedded {
	t.Helper()
	if cfg.Listen == "" {
		cfg.Listen = DefaultListen
	}
	cfg.TempDir = t.TempDir()
	emb, err := StartEmbedded(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { emb.Close() })
	return emb
}

// dial connects to url with opts once (no retries) and closes at once.
func dial(url string, opts ...nats.Option) error {
	nc, err := nats.Connect(url, append(opts, nats.MaxReconnects(0))...)
	if err == nil {
		nc.Close()
	}
	return err
}

// nkeySeed writes a fresh nkey user seed to a file.
func nkeySeed(t *testing.T) string {
	t.Helper()
	kp, err := nkeys.CreateUser()
	if err != nil {
		t.Fatal(err)
	}
	seed, err := kp.Seed()
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "user.nk")
	if err := os.WriteFile(p, seed, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestEmbeddedRefusesAnOpenBrokerBeyondLoopback: without credentials, only
// loopback, or an explicit Insecure.
func TestEmbeddedRefusesAnOpenBrokerBeyondLoopback(t *testing.T) {
	for _, listen := range []string{"0.0.0.0:0", ":0", "[::]:0"} {
		if emb, err := StartEmbedded(EmbeddedConfig{Listen: listen, TempDir: t.TempDir()}); !errors.Is(err, ErrNoCredentials) {
			if emb != nil {
				emb.Close()
			}
			t.Errorf("%s without credentials: %v, want ErrNoCredentials", listen, err)
		}
	}
	startAuth(t, EmbeddedConfig{Listen: "0.0.0.0:0", Insecure: true})
	startAuth(t, EmbeddedConfig{Listen: "0.0.0.0:0", Auth: Auth{Token: "tok"}})
	if _, err := StartEmbedded(EmbeddedConfig{Listen: "127.0.0.1:0", TempDir: t.TempDir(), Auth: Auth{CredsFile: "x.creds"}}); err == nil {
		t.Error("a .creds file on the embedded server: no error")
	}
	if _, err := StartEmbedded(EmbeddedConfig{Listen: "127.0.0.1:0", TempDir: t.TempDir(), Auth: Auth{User: "u", Token: "t"}}); err == nil {
		t.Error("two credential forms: no error")
	}
}

// TestCredentialForms: for each form the embedded server takes, a client
// with no credential, or a wrong one, is refused, the right one joins, and
// the front's in-process connection gets through.
func TestCredentialForms(t *testing.T) {
	seed := nkeySeed(t)
	for _, tc := range []struct {
		name         string
		auth         Auth
		wrong, right []nats.Option
	}{
		{"user and password", Auth{User: "flip", Password: "pw-1"},
			[]nats.Option{nats.UserInfo("flip", "pw-2")}, []nats.Option{nats.UserInfo("flip", "pw-1")}},
		{"token", Auth{Token: "tok-1"},
			[]nats.Option{nats.Token("tok-2")}, []nats.Option{nats.Token("tok-1")}},
		{"nkey", Auth{NkeyFile: seed}, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			emb := startAuth(t, EmbeddedConfig{Auth: tc.auth})
			if tc.wrong == nil {
				wrong, err := Auth{NkeyFile: nkeySeed(t)}.ClientOptions()
				if err != nil {
					t.Fatal(err)
				}
				right, err := tc.auth.ClientOptions()
				if err != nil {
					t.Fatal(err)
				}
				tc.wrong, tc.right = wrong, right
			}
			if err := dial(emb.URL()); !errors.Is(err, nats.ErrAuthorization) {
				t.Errorf("no credential: %v, want an authorization violation", err)
			}
			if err := dial(emb.URL(), tc.wrong...); !errors.Is(err, nats.ErrAuthorization) {
				t.Errorf("a wrong credential: %v, want an authorization violation", err)
			}
			if err := dial(emb.URL(), tc.right...); err != nil {
				t.Errorf("the right credential: %v", err)
			}
			nc, err := emb.Connect()
			if err != nil {
				t.Fatalf("the front's in-process connection: %v", err)
			}
			nc.Close()
		})
	}
}

// TestTLS: a server with a certificate takes a client that trusts its CA
// and has the credential; a client that does not trust it, or speaks no
// TLS, is refused.
func TestTLS(t *testing.T) {
	certs := testcert.Write(t, "127.0.0.1")
	auth := Auth{User: "flip", Password: "pw"}
	emb := startAuth(t, EmbeddedConfig{Auth: auth, TLS: TLS{Cert: certs.Cert, Key: certs.Key}})
	creds, _ := auth.ClientOptions()
	withCA, err := TLS{CA: certs.CA}.ClientOptions()
	if err != nil {
		t.Fatal(err)
	}
	if err := dial(emb.URL(), append(creds, withCA...)...); err != nil {
		t.Errorf("a client with the CA and the credential: %v", err)
	}
	if err := dial(emb.URL(), creds...); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("a client without the CA: %v, want a certificate error", err)
	}
	other := testcert.Write(t, "127.0.0.1")
	otherCA, _ := TLS{CA: other.CA}.ClientOptions()
	if err := dial(emb.URL(), append(creds, otherCA...)...); err == nil {
		t.Error("a client trusting another CA got through")
	}
	if err := dial(emb.URL(), withCA...); !errors.Is(err, nats.ErrAuthorization) {
		t.Errorf("TLS without the credential: %v, want an authorization violation", err)
	}
	if err := (TLS{Cert: certs.Cert, Key: certs.Key, CA: certs.CA}).VerifyFor("127.0.0.1"); err != nil {
		t.Errorf("VerifyFor the certificate's own host: %v", err)
	}
	if err := (TLS{Cert: certs.Cert, Key: certs.Key, CA: certs.CA}).VerifyFor("10.1.2.3"); err == nil {
		t.Error("VerifyFor a host the certificate does not name: no error")
	}
}
