package experimenttest

import "testing"

// WriteAndLoad writes run into its run folder out with write (the
// experiment's Write) and reads it back with load (its Load), as a reader
// of the folder would; an error of either fails t.
func WriteAndLoad[R any](t testing.TB, out string, run R, write func(string, R) error, load func(string) (R, error)) R {
	t.Helper()
	if err := write(out, run); err != nil {
		t.Fatal(err)
	}
	stored, err := load(out)
	if err != nil {
		t.Fatal(err)
	}
	return stored
}
