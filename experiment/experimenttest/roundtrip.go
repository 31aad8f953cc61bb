package experimenttest

import "testing"

// WriteAndLoad writes run into its run folder out with write (the
// experiment's Write) and reads it back with load (its Load), as a reader
// of the folder would; an error of either fails t.
func WriteAndLoad[R any](t testing.TB, out string, run R, write func(string, R) (string, error), load func(string) (R, error)) R {
	t.Helper()
	if md, err := write(out, run); err != nil {
		t.Fatal(err)
	} else if md == "" {
		t.Fatal("write returned no summary")
	}
	stored, err := load(out)
	if err != nil {
		t.Fatal(err)
	}
	return stored
}
