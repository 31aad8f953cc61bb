package trial

import "slices"

// Rotate returns xs for round round (from 1): rotated left by round-1, so
// each round starts with another mode and a drift of the machine falls on
// every mode alike over the rounds (benchstat's advice: interleave).
func Rotate[T any](xs []T, round int) []T {
	if len(xs) == 0 {
		return nil
	}
	k := (round - 1) % len(xs)
	return append(slices.Clone(xs[k:]), xs[:k]...)
}
