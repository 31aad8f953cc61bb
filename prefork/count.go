package prefork

import (
	"encoding/binary"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// The worker count a scaled cluster has now, for each worker's /healthz:
// the master keeps it in a memfd that every worker inherits (fd 5) and
// reads when asked. A memfd needs no path and no cleanup, and a 4-byte
// write of a count below 2^16 cannot be read half-done in a way that
// matters: only its low bytes change.

// newCount makes the memfd holding n.
func newCount(n int) (*os.File, error) {
	fd, err := unix.MemfdCreate("prefork-workers", unix.MFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("worker count memfd: %w", err)
	}
	f := os.NewFile(uintptr(fd), "prefork-workers")
	if err := writeCount(f, n); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

func writeCount(f *os.File, n int) error {
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], uint32(n))
	if _, err := f.WriteAt(b[:], 0); err != nil {
		return fmt.Errorf("write worker count: %w", err)
	}
	return nil
}

// Workers is how many workers the cluster has now (the master may scale
// it at runtime); 0 if the master did not say.
func (w *Worker) Workers() int {
	if w.count == nil {
		return 0
	}
	var b [4]byte
	if _, err := w.count.ReadAt(b[:], 0); err != nil {
		return 0
	}
	return int(binary.LittleEndian.Uint32(b[:]))
}
