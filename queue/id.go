package queue

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
)

// idBytes is the randomness in a job id: 128 bits, so that the id can be
// the only key to a job's result (a guess has a 2^-128 chance per try).
const idBytes = 16

// idEncoding is URL-safe and unpadded; Strict makes each id decode from
// exactly one string, so a job has one spelling.
var idEncoding = base64.RawURLEncoding.Strict()

// idLen is the length of an encoded job id (22).
var idLen = idEncoding.EncodedLen(idBytes)

// NewJobID is a fresh job id: 128 bits from crypto/rand, base64url. Unlike a
// NUID (a random prefix and a sequence), neighbouring ids say nothing of
// each other, so holding one id gives no way to another job.
func NewJobID() string {
	var b [idBytes]byte
	// crypto/rand.Read never fails on the systems Go supports (it crashes
	// the program instead), so there is no error to handle.
	_, _ = rand.Read(b[:])
	return idEncoding.EncodeToString(b[:])
}

// ParseJobID returns the bytes of job id s, or an error when s is not an id
// as NewJobID makes them: a lookup never takes anything else to the table
// or the store.
func ParseJobID(s string) ([idBytes]byte, error) {
	var id [idBytes]byte
	if len(s) != idLen {
		return id, fmt.Errorf("job id: %d characters, want %d", len(s), idLen)
	}
	n, err := idEncoding.Decode(id[:], []byte(s))
	if err != nil || n != idBytes {
		return id, fmt.Errorf("job id: not base64url of %d bytes", idBytes)
	}
	return id, nil
}
