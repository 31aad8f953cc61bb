package queue

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"
	"math/bits"
	"slices"
	"strings"
	"testing"

	"github.com/nats-io/nuid"

	"github.com/flipbench/flipbench/job"
	"github.com/flipbench/flipbench/server"
)

// Bounds of checkIDs for 1000 ids. For n uniform 128-bit values, the chance
// that some pair shares k leading bits is at most n²/2 · 2^-k: 4.5e-7 for
// k = maxSharedBits. The chance that some pair lies within 2^minStepBits of
// each other is at most n² · 2^minStepBits / 2^128, about 5e-14.
const (
	maxSharedBits = 40
	minStepBits   = 64
)

// checkIDs says how ids fail to look independent. It reads each id as a
// 128-bit big-endian number (base64url), sorts them, and checks each pair of
// neighbours, where any pair's longest shared prefix and smallest difference
// are found: a shared prefix over maxSharedBits, or a difference under
// 2^minStepBits, is a pattern chance would not make.
func checkIDs(ids []string) error {
	nums := make([][]byte, 0, len(ids))
	for _, id := range ids {
		// Not Strict: the negative control's NUIDs have stray low bits.
		b, err := base64.RawURLEncoding.DecodeString(id)
		if err != nil || len(b) != idBytes {
			return fmt.Errorf("id %q is not %d bytes of base64url", id, idBytes)
		}
		nums = append(nums, b)
	}
	slices.SortFunc(nums, bytes.Compare)
	minStep := new(big.Int).Lsh(big.NewInt(1), minStepBits)
	var problems []string
	for i := 1; i < len(nums); i++ {
		a, b := nums[i-1], nums[i]
		shared := 0
		for k := range a {
			if a[k] != b[k] {
				shared += bits.LeadingZeros8(a[k] ^ b[k])
				break
			}
			shared += 8
		}
		if shared > maxSharedBits {
			problems = append(problems, fmt.Sprintf("%x and %x share %d leading bits", a, b, shared))
		}
		if d := new(big.Int).Sub(new(big.Int).SetBytes(b), new(big.Int).SetBytes(a)); d.Cmp(minStep) < 0 {
			problems = append(problems, fmt.Sprintf("%x and %x differ by %v", a, b, d))
		}
		if len(problems) > 3 {
			break
		}
	}
	if problems != nil {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

// TestCheckIDsCatchesNUIDs is the check's negative control: the NUIDs job
// ids once were (a random prefix, then a sequence stepping by a small
// increment) must fail it.
func TestCheckIDsCatchesNUIDs(t *testing.T) {
	ids := make([]string, 1000)
	for i := range ids {
		ids[i] = nuid.Next()
	}
	if err := checkIDs(ids); err == nil {
		t.Error("1000 NUIDs passed the independence check")
	}
}

// TestJobIDsFromOneFront submits 1000 jobs to one front (a heartbeat stands
// for a worker, so they stay queued), checks their ids with checkIDs, and
// checks that a flood stops at -max-queue.
func TestJobIDsFromOneFront(t *testing.T) {
	const n = 1000
	f, _ := newTestFront(t, FrontConfig{MaxQueue: n})
	fakeWorker(t, f)
	ids := make([]string, 0, n)
	seen := map[string]bool{}
	for range n {
		id, err := f.Submit(t.Context(), nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ParseJobID(id); err != nil || seen[id] {
			t.Fatalf("id %q: %v, seen before %v", id, err, seen[id])
		}
		seen[id] = true
		ids = append(ids, id)
	}
	if err := checkIDs(ids); err != nil {
		t.Errorf("ids of one front look related: %v", err)
	}
	if _, err := f.Submit(t.Context(), nil); !errors.Is(err, job.ErrQueueFull) {
		t.Errorf("job %d with -max-queue %d: %v, want ErrQueueFull", n+1, n, err)
	}
	if _, ok, err := f.Status(t.Context(), ids[0]); !ok || err != nil {
		t.Errorf("a queued job %s is unknown", ids[0])
	}
	for _, id := range []string{NewJobID(), ids[0] + "A", strings.ToUpper(ids[0]), "", strings.Repeat("x", 1<<16)} {
		if _, ok, _ := f.Status(t.Context(), id); ok && id != ids[0] {
			t.Errorf("Status(%.40q) found a job", id)
		}
		if _, _, err := f.Result(t.Context(), id); !errors.Is(err, server.ErrNoResult) {
			t.Errorf("Result(%.40q): %v, want ErrNoResult", id, err)
		}
	}
}

func TestParseJobID(t *testing.T) {
	id := NewJobID()
	if len(id) != 22 {
		t.Errorf("id %q: %d characters, want 22", id, len(id))
	}
	if _, err := ParseJobID(id); err != nil {
		t.Errorf("a fresh id: %v", err)
	}
	// The 22nd character carries 2 of the 128 bits; "B" sets one of the 4
	// that must be zero, a second spelling of some id.
	for _, bad := range []string{"", "nope", id + "A", id[1:], strings.Repeat("A", 10000), id[:21] + "B",
		id[:21] + "/", id[:21] + "=", id[:20] + "==", id[:21] + "\xc3", "../../../../etc/passwd", nuid.Next() + "\x00"} {
		if _, err := ParseJobID(bad); err == nil {
			t.Errorf("ParseJobID(%q) accepted", bad)
		}
	}
}

// FuzzParseJobID: whatever the input, the parser does not panic, and what it
// accepts is one spelling of 16 bytes.
func FuzzParseJobID(f *testing.F) {
	for _, s := range []string{NewJobID(), "", "nope", nuid.Next(), strings.Repeat("-", 22), strings.Repeat("_", 22)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b, err := ParseJobID(s)
		if err != nil {
			return
		}
		if again := idEncoding.EncodeToString(b[:]); again != s {
			t.Errorf("ParseJobID(%q) accepted a second spelling of %q", s, again)
		}
	})
}
