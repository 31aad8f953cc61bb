package trial

import (
	"slices"
	"testing"
)

func TestRotate(t *testing.T) {
	xs := []string{"a", "b", "c"}
	for round, want := range map[int][]string{1: {"a", "b", "c"}, 2: {"b", "c", "a"}, 3: {"c", "a", "b"}, 4: {"a", "b", "c"}} {
		if got := Rotate(xs, round); !slices.Equal(got, want) {
			t.Errorf("round %d: %v, want %v", round, got, want)
		}
	}
}
