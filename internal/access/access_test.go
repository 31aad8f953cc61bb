package access

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
)

func TestLoopback(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:0": true, "127.9.9.9:1": true, "[::1]:9000": true, "localhost:9000": true,
		":9000": false, "0.0.0.0:9000": false, "[::]:9000": false, "10.0.0.1:9000": false,
		"example.com:9000": false, "127.0.0.1": false, "": false,
	} {
		if got := Loopback(addr); got != want {
			t.Errorf("Loopback(%q) = %v, want %v", addr, got, want)
		}
	}
}

func TestSecret(t *testing.T) {
	const env = "FLIPBENCH_TEST_SECRET"
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	t.Setenv(env, "")
	if s, err := Secret("", env); s != "" || err != nil {
		t.Errorf("nothing given: %q, %v", s, err)
	}
	if s, err := Secret(write("a", "pass word\n"), env); s != "pass word" || err != nil {
		t.Errorf("a file: %q, %v, want the line without its newline", s, err)
	}
	if _, err := Secret(write("empty", "\n"), env); err == nil {
		t.Error("an empty file: no error")
	}
	if _, err := Secret(filepath.Join(dir, "missing"), env); err == nil {
		t.Error("a missing file: no error")
	}
	t.Setenv(env, "from-env")
	if s, err := Secret("", env); s != "from-env" || err != nil {
		t.Errorf("the environment: %q, %v", s, err)
	}
	if _, err := Secret(write("b", "x"), env); err == nil {
		t.Error("a file and the environment: no error")
	}
}

func TestBearer(t *testing.T) {
	if _, err := Bearer("short", http.NotFoundHandler()); !errors.Is(err, ErrWeakToken) {
		t.Errorf("a 5-character token: %v, want ErrWeakToken", err)
	}
	const token = "0123456789abcdef"
	h, err := Bearer(token, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) }))
	if err != nil {
		t.Fatal(err)
	}
	for auth, want := range map[string]int{
		"": 401, "Bearer": 401, "Bearer ": 401, "bearer " + token: 401, "Bearer " + token + " ": 401,
		"Bearer " + token[1:]: 401, token: 401, "Bearer " + token: http.StatusTeapot,
	} {
		r := httptest.NewRequest(http.MethodGet, "/debug/pprof/heap", nil)
		if auth != "" {
			r.Header.Set("Authorization", auth)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != want {
			t.Errorf("Authorization %q: status %d, want %d", auth, w.Code, want)
		}
		if want == 401 && w.Header().Get("WWW-Authenticate") == "" {
			t.Errorf("Authorization %q: a 401 without WWW-Authenticate", auth)
		}
	}
}
