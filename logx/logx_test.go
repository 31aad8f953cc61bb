package logx

import (
	"bytes"
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"testing"
)

func TestNew(t *testing.T) {
	pid := strconv.Itoa(os.Getpid())
	tests := []struct {
		format string
		want   []string
	}{
		{"text", []string{"time=", "msg=hello", "pid=" + pid, "mode=standard", "k=v"}},
		{"", []string{"time=", "pid=" + pid}},
		{"json", []string{`"time":`, `"msg":"hello"`, `"pid":` + pid, `"mode":"standard"`, `"k":"v"`}},
	}
	for _, tt := range tests {
		t.Run(tt.format, func(t *testing.T) {
			var buf bytes.Buffer
			log, err := New(&buf, tt.format, "standard")
			if err != nil {
				t.Fatal(err)
			}
			log.Info("hello", "k", "v")
			got := buf.String()
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("line %q lacks %q", got, w)
				}
			}
			if tt.format == "json" && !json.Valid(buf.Bytes()) {
				t.Errorf("not JSON: %q", got)
			}
		})
	}
}

func TestNewBadFormat(t *testing.T) {
	if _, err := New(&bytes.Buffer{}, "xml", "standard"); err == nil {
		t.Fatal("want an error for format xml")
	}
}
