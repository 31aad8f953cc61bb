package contract

import (
	"errors"
	"path/filepath"
	"testing"
)

func TestAddrFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "addr")
	if _, err := ReadAddrFile(p); !errors.Is(err, ErrNoAddr) {
		t.Fatalf("before writing: err = %v, want ErrNoAddr", err)
	}
	if err := WriteAddrFile(p, "127.0.0.1:4321"); err != nil {
		t.Fatal(err)
	}
	if got, err := ReadAddrFile(p); err != nil || got != "127.0.0.1:4321" {
		t.Fatalf("read back %q, %v", got, err)
	}
	if err := WriteAddrFile(filepath.Join(t.TempDir(), "no", "such", "dir"), "x"); err == nil {
		t.Error("writing into a missing folder succeeded")
	}
}

func TestDecodeHealth(t *testing.T) {
	for _, tc := range []struct {
		body  string
		total int
		err   bool
	}{
		{`{"pid":1,"capacity":1}`, 1, false},
		{`{"pid":1,"worker":0,"capacity":1,"workers":4}`, 4, false},
		{`{"pid":1,"capacity":2,"workers":1}`, 2, false},
		{`{"pid":1}`, 0, true},
		{`not json`, 0, true},
	} {
		h, err := DecodeHealth([]byte(tc.body))
		if (err != nil) != tc.err {
			t.Errorf("%s: err = %v, want error %v", tc.body, err, tc.err)
			continue
		}
		if err == nil && h.TotalCapacity() != tc.total {
			t.Errorf("%s: total capacity %d, want %d", tc.body, h.TotalCapacity(), tc.total)
		}
	}
	if h, _ := DecodeHealth([]byte(`{"capacity":1}`)); h.Worker != -1 {
		t.Errorf("absent worker index reads as %d, want -1", h.Worker)
	}
}
