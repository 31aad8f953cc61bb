package job

import "errors"

// Errors for bad input. Callers map them to a status code with errors.Is; each is
// wrapped with the detail of what was wrong.
var (
	// ErrEmpty is returned for an input of zero bytes.
	ErrEmpty = errors.New("empty image")
	// ErrFormat is returned for bytes that are no image format this build decodes.
	ErrFormat = errors.New("unsupported image format")
	// ErrDecode is returned for an image whose header reads but whose data does not.
	ErrDecode = errors.New("undecodable image")
	// ErrTooManyPixels is returned, before any full decode, for an image whose header
	// declares more pixels than the limit.
	ErrTooManyPixels = errors.New("too many pixels")
	// ErrQueueFull is returned by Limiter.Acquire when no place is left in the queue.
	ErrQueueFull = errors.New("job queue full")
)
