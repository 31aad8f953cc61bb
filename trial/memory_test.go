package trial

import "testing"

func TestParseSize(t *testing.T) {
	for in, want := range map[string]uint64{"1500MiB": 1500 << 20, "8GiB": 8 << 30, "2GB": 2e9, "512 MiB": 512 << 20} {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "lots", "-1GiB", "0"} {
		if _, err := ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q) succeeded", in)
		}
	}
}
