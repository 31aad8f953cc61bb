// Package access is what flipbench's programs share about who may reach
// them: whether an address stays on this machine, secrets read from a file
// or the environment (never from a flag value, which ps shows), and a
// bearer-token check for HTTP handlers.
package access

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
)

// Loopback reports whether a listener on addr (host:port) is reachable only
// from this machine: localhost or a loopback IP. An empty host (":9000") or
// an unspecified one ("0.0.0.0") listens on every interface.
func Loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Secret reads a secret from file when it is given, otherwise from the
// environment variable env; "" when neither has one. A file's trailing
// newline is not part of the secret.
func Secret(file, env string) (string, error) {
	if file != "" {
		if os.Getenv(env) != "" {
			return "", fmt.Errorf("a secret both in %s and in $%s: give one", file, env)
		}
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("read secret: %w", err)
		}
		s := strings.TrimRight(string(b), "\r\n")
		if s == "" {
			return "", fmt.Errorf("secret file %s is empty", file)
		}
		return s, nil
	}
	return os.Getenv(env), nil
}

// ErrWeakToken is a bearer token too short to resist guessing.
var ErrWeakToken = errors.New("token shorter than 16 characters")

// Bearer wraps h so that every request must carry "Authorization: Bearer
// token" (what Prometheus's authorization config sends); others get 401.
// token must be at least 16 characters.
func Bearer(token string, h http.Handler) (http.Handler, error) {
	if len(token) < 16 {
		return nil, ErrWeakToken
	}
	// Comparing hashes keeps the comparison's time independent of the
	// token's length as well as its content.
	want := sha256.Sum256([]byte(token))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		sum := sha256.Sum256([]byte(got))
		if !ok || subtle.ConstantTimeCompare(sum[:], want[:]) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="flipbench admin"`)
			http.Error(w, "unauthorized: this address needs Authorization: Bearer <token>", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	}), nil
}
