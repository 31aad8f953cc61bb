package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flipbench/flipbench/contract"
	"github.com/flipbench/flipbench/job"
)

// TestEngineFlag: each engine of this build serves the photo job and refuses bad
// uploads with the same statuses and JSON errors (the PNG bomb and the truncated JPEG
// included); an engine the build lacks stops the server with how to get it.
func TestEngineFlag(t *testing.T) {
	bad := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "bad", name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for _, name := range job.EngineNames() {
		t.Run(name, func(t *testing.T) {
			if err := job.CheckEngine(name); err != nil {
				if err := run([]string{"-" + contract.FlagEngine, name, "-image", "../../testdata/photo-1mp.jpg"}); err == nil || !strings.Contains(err.Error(), "flipbench_vips") {
					t.Errorf("-engine %s in a build without it: got %v, want how to build it in", name, err)
				}
				t.Skipf("engine %s not in this build: go test -tags flipbench_vips with libvips-dev installed", name)
			}
			_, addr, _ := startStandard(t, "-"+contract.FlagEngine, name)
			c := &http.Client{Timeout: 30 * time.Second}
			resp, err := c.Get("http://" + addr + contract.PathHealth)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			h, err := contract.DecodeHealth(body)
			if err != nil {
				t.Fatal(err)
			}
			wantMode := "standard"
			if name != job.EngineImaging {
				wantMode = name + "-standard"
			}
			if h.Mode != wantMode {
				t.Errorf("mode %q, want %q", h.Mode, wantMode)
			}
			for _, tt := range []struct {
				what, ctype string
				body        []byte
				status      int
			}{
				{"the photo job", "", nil, http.StatusOK},
				{"truncated JPEG", "image/jpeg", bad("truncated.jpg"), http.StatusBadRequest},
				{"text as a JPEG", "image/jpeg", bad("text.jpg"), http.StatusBadRequest},
				{"PNG bomb", "image/png", bad("huge-header.png"), http.StatusRequestEntityTooLarge},
				{"not an image type", "text/plain", []byte("hello"), http.StatusUnsupportedMediaType},
			} {
				resp, err := c.Post("http://"+addr+contract.PathFlip, tt.ctype, bytes.NewReader(tt.body))
				if err != nil {
					t.Fatal(err)
				}
				var answer struct {
					Error string `json:"error"`
				}
				err = json.NewDecoder(resp.Body).Decode(&answer)
				resp.Body.Close()
				if resp.StatusCode != tt.status {
					t.Errorf("%s: status %d, want %d", tt.what, resp.StatusCode, tt.status)
				}
				if tt.status != http.StatusOK && (err != nil || answer.Error == "") {
					t.Errorf("%s: want a JSON error, got %v, %+v", tt.what, err, answer)
				}
			}
		})
	}
	if err := run([]string{"-" + contract.FlagEngine, "gimp", "-image", "../../testdata/photo-1mp.jpg"}); err == nil || !strings.Contains(err.Error(), "unknown engine") {
		t.Errorf("-engine gimp: got %v", err)
	}
}
