package jobstats

import (
	"reflect"
	"testing"
)

func TestMerge(t *testing.T) {
	a := []Series{
		{Name: "h", Labels: []string{"/flip", "200"}, Count: 2, Sum: 1, Buckets: []uint64{1, 2}},
		{Name: "c", Sum: 3},
	}
	b := []Series{
		{Name: "h", Labels: []string{"/flip", "200"}, Count: 3, Sum: 2, Buckets: []uint64{0, 3}},
		{Name: "h", Labels: []string{"/", "200"}, Count: 1, Sum: 0.1, Buckets: []uint64{1, 1}},
		{Name: "h", Labels: []string{"/flip", "200"}, Count: 9, Sum: 9, Buckets: []uint64{9}}, // another build
		{Name: "c", Sum: 4},
	}
	want := []Series{
		{Name: "h", Labels: []string{"/flip", "200"}, Count: 5, Sum: 3, Buckets: []uint64{1, 5}},
		{Name: "c", Sum: 7},
		{Name: "h", Labels: []string{"/", "200"}, Count: 1, Sum: 0.1, Buckets: []uint64{1, 1}},
	}
	got := Merge(a, b)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Merge = %+v\nwant %+v", got, want)
	}
	if a[0].Count != 2 || a[0].Buckets[1] != 2 {
		t.Errorf("Merge changed its input: %+v", a[0])
	}
}
