package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/flipbench/flipbench/contract"
	"github.com/flipbench/flipbench/job"
	"github.com/flipbench/flipbench/listen"
)

// statusClientClosed is nginx's code for a client that left before its answer; it is
// logged, never seen by the client.
const statusClientClosed = 499

// uploadField is the multipart field that carries an image.
const uploadField = "image"

// FlipAnswer is the body of POST /flip with no upload.
type FlipAnswer struct {
	PID     int       `json:"pid"`
	Worker  int       `json:"worker"`
	QueueMS float64   `json:"queue_ms"`
	JobMS   float64   `json:"job_ms"`
	Bytes   int64     `json:"bytes"`
	Steps   StepsJSON `json:"steps_ms"`
}

// StepsJSON is job.Steps in milliseconds.
type StepsJSON struct {
	Copy   float64 `json:"copy"`
	Open   float64 `json:"open"`
	Flip   float64 `json:"flip"`
	Save   float64 `json:"save"`
	Delete float64 `json:"delete"`
}

// ErrorAnswer is the body of every error.
type ErrorAnswer struct {
	Error string `json:"error"`
}

// errUnsupportedType is a Content-Type /flip does not take.
var errUnsupportedType = errors.New("unsupported content type")

// ErrNoWorker is returned by Jobs that have nobody to run a job: the answer
// is 503 with a Retry-After, as for a full queue.
var ErrNoWorker = errors.New("no worker to run the job")

// ErrUnavailable is returned by Jobs whose broker did not answer within its
// bound: the answer is 503, as for a full queue.
var ErrUnavailable = errors.New("job broker unavailable")

// errNoField is a multipart body without the image field.
var errNoField = errors.New("multipart body has no field " + uploadField)

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func (s *Server) handlePID(c echo.Context) error {
	return c.String(http.StatusOK, strconv.Itoa(s.pid))
}

// workers is how many processes serve the address now.
func (s *Server) workers() int {
	if s.cfg.WorkersNow != nil {
		if n := s.cfg.WorkersNow(); n > 0 {
			return n
		}
	}
	return s.cfg.Workers
}

func (s *Server) handleHealth(c echo.Context) error {
	running, queued := s.jobs.Load()
	return c.JSON(http.StatusOK, contract.Health{
		PID:           s.pid,
		Mode:          s.cfg.Mode,
		Worker:        s.cfg.Worker,
		GOMAXPROCS:    runtime.GOMAXPROCS(0),
		Capacity:      s.Capacity(),
		Workers:       s.workers(),
		UptimeSeconds: time.Since(s.started).Seconds(),
		InFlight:      running,
		Queued:        queued,
		Done:          s.done.Load(),
		Failed:        s.failed.Load(),
	})
}

// timing stamps every answer with the worker pid, and every /flip answer, errors
// included, with the server's own time; queue and job time start at zero and the handler fills them in.
func (s *Server) timing(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set(contract.HeaderWorkerPID, strconv.Itoa(s.pid))
		if c.Request().URL.Path != contract.PathFlip {
			return next(c)
		}
		start := time.Now()
		h.Set(contract.HeaderQueueTime, "0s")
		h.Set(contract.HeaderJobTime, "0s")
		c.Response().Before(func() {
			h.Set(contract.HeaderResponseTime, time.Since(start).String())
		})
		return next(c)
	}
}

func (s *Server) handleFlip(c echo.Context) error {
	upload, release, err := s.readBody(c)
	if err != nil {
		return err
	}
	defer release()
	if upload == nil {
		return s.flipPhoto(c)
	}
	return s.flipUpload(c, upload)
}

// readBody reads a /flip or /jobs body within the upload budget and returns
// the upload, nil for the article's request (no body), and a release for the
// budget once the caller is done with the upload. An upload's header is
// checked, so a bad one never waits in a queue.
func (s *Server) readBody(c echo.Context) (upload []byte, release func(), err error) {
	r := c.Request()
	if r.ContentLength > s.cfg.MaxBody {
		return nil, nil, &http.MaxBytesError{Limit: s.cfg.MaxBody}
	}
	release = func() {}
	if r.ContentLength != 0 {
		// Bodies are held in memory until their job is done: the budget bounds
		// what a deep queue of uploads can hold. An unknown length may be the limit.
		n := r.ContentLength
		if n < 0 {
			n = s.cfg.MaxBody
		}
		if err := s.uploads.Acquire(r.Context(), n); err != nil {
			return nil, nil, fmt.Errorf("wait for upload memory: %w", err)
		}
		release = func() { s.uploads.Release(n) }
	}
	arrived := listen.AwaitBody(r.Context())
	upload, err = readUpload(c.Response(), r, s.cfg.MaxBody)
	arrived()
	if err == nil && upload != nil {
		_, _, err = job.Check(upload, s.cfg.MaxPixels)
	}
	if err != nil {
		release()
		return nil, nil, err
	}
	return upload, release, nil
}

// stamp puts a job's process and times on the answer and counts its outcome.
func (s *Server) stamp(c echo.Context, out Outcome, err error) {
	h := c.Response().Header()
	if out.PID != 0 {
		h.Set(contract.HeaderWorkerPID, strconv.Itoa(out.PID))
	}
	h.Set(contract.HeaderQueueTime, out.Queue.String())
	h.Set(contract.HeaderJobTime, out.Job.String())
	switch {
	case out.Job == 0: // the job never started
	case err != nil:
		s.failed.Add(1)
	default:
		s.done.Add(1)
		s.lastJob.Store(int64(out.Job))
	}
}

func (s *Server) flipPhoto(c echo.Context) error {
	out, err := s.jobs.Photo(c.Request().Context())
	s.stamp(c, out, err)
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded), errors.Is(err, job.ErrQueueFull),
		errors.Is(err, ErrNoWorker), errors.Is(err, ErrUnavailable), errors.Is(err, ErrJobOverran):
		return err
	case err != nil && out.Job > 0:
		// The photo is the server's own, so its failure is the server's fault:
		// %v drops job's input errors from the chain, which would map to a 4xx.
		return fmt.Errorf("flip the server's photo: %v", err)
	case err != nil:
		return err
	}
	return c.JSON(http.StatusOK, flipAnswer(out))
}

// flipAnswer is the answer to a photo job.
func flipAnswer(out Outcome) FlipAnswer {
	return FlipAnswer{
		PID:     out.PID,
		Worker:  out.Worker,
		QueueMS: ms(out.Queue),
		JobMS:   ms(out.Job),
		Bytes:   out.Bytes,
		Steps: StepsJSON{
			Copy:   ms(out.Steps.Copy),
			Open:   ms(out.Steps.Open),
			Flip:   ms(out.Steps.Flip),
			Save:   ms(out.Steps.Save),
			Delete: ms(out.Steps.Delete),
		},
	}
}

func (s *Server) flipUpload(c echo.Context, data []byte) error {
	out, err := s.jobs.Upload(c.Request().Context(), data)
	s.stamp(c, out, err)
	if err != nil {
		return err
	}
	return c.Blob(http.StatusOK, "image/"+out.Format, out.Image)
}

// readUpload returns the uploaded image, or nil when the request carries neither a
// body nor a Content-Type (the article's request: flip the server's photo).
func readUpload(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		return nil, fmt.Errorf("read body: %w", err)
	}
	ctype := r.Header.Get(echo.HeaderContentType)
	if ctype == "" {
		if len(body) == 0 {
			return nil, nil
		}
		return nil, fmt.Errorf("%w: a body needs a Content-Type (image/jpeg, image/png, image/gif or multipart/form-data)", errUnsupportedType)
	}
	media, params, err := mime.ParseMediaType(ctype)
	if err != nil {
		return nil, fmt.Errorf("%w: %q: %v", errUnsupportedType, ctype, err)
	}
	switch media {
	case "image/jpeg", "image/png", "image/gif":
		if len(body) == 0 {
			return nil, job.ErrEmpty
		}
		return body, nil
	case "multipart/form-data":
		return readField(body, params["boundary"])
	default:
		return nil, fmt.Errorf("%w: %s", errUnsupportedType, media)
	}
}

// readField returns the image field of a multipart body already in memory, so no
// multipart temp file is ever written.
func readField(body []byte, boundary string) ([]byte, error) {
	if boundary == "" {
		return nil, fmt.Errorf("%w: multipart without boundary", job.ErrDecode)
	}
	mr := multipart.NewReader(bytes.NewReader(body), boundary)
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return nil, errNoField
		}
		if err != nil {
			return nil, fmt.Errorf("%w: multipart: %v", job.ErrDecode, err)
		}
		if part.FormName() != uploadField {
			continue
		}
		data, err := io.ReadAll(part)
		if err != nil {
			return nil, fmt.Errorf("%w: multipart field: %v", job.ErrDecode, err)
		}
		if len(data) == 0 {
			return nil, job.ErrEmpty
		}
		return data, nil
	}
}

// status maps an error to the answer's status: a client's mistake is a 4xx, never
// a 5xx.
func status(err error) int {
	var maxBytes *http.MaxBytesError
	var he *echo.HTTPError
	var netErr net.Error
	switch {
	case errors.As(err, &he):
		return he.Code
	case errors.As(err, &maxBytes), errors.Is(err, job.ErrTooManyPixels):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, errUnsupportedType):
		return http.StatusUnsupportedMediaType
	case errors.Is(err, job.ErrEmpty), errors.Is(err, job.ErrFormat), errors.Is(err, job.ErrDecode), errors.Is(err, errNoField),
		errors.Is(err, io.ErrUnexpectedEOF): // the client cut its body short
		return http.StatusBadRequest
	case errors.Is(err, context.DeadlineExceeded): // a job's result did not come in time (a net.Error too)
		return http.StatusGatewayTimeout
	case errors.As(err, &netErr) && netErr.Timeout():
		return http.StatusRequestTimeout
	case errors.Is(err, job.ErrQueueFull), errors.Is(err, ErrNoWorker), errors.Is(err, ErrUnavailable), errors.Is(err, ErrJobOverran):
		return http.StatusServiceUnavailable
	case errors.Is(err, context.Canceled):
		return statusClientClosed
	default:
		return http.StatusInternalServerError
	}
}

func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	code := status(err)
	msg := err.Error()
	var he *echo.HTTPError
	if errors.As(err, &he) {
		msg = fmt.Sprint(he.Message)
	}
	if code == http.StatusServiceUnavailable {
		c.Response().Header().Set("Retry-After", strconv.Itoa(s.retryAfter()))
	}
	if code == statusClientClosed {
		s.log.Debug("client left", "path", c.Path(), "err", err)
		return
	}
	if code >= 500 {
		s.log.Error("request failed", "path", c.Path(), "status", code, "err", err)
	}
	var werr error
	if c.Request().Method == http.MethodHead {
		werr = c.NoContent(code)
	} else {
		werr = c.JSON(code, ErrorAnswer{Error: msg})
	}
	if werr != nil {
		s.log.Debug("write error answer", "err", werr)
	}
}

// retryAfter is the seconds until the queue has room again: everyone inside,
// served capacity at a time, each taking about as long as the last job.
func (s *Server) retryAfter() int {
	running, queued := s.jobs.Load()
	secs := float64(running+queued) / float64(max(s.Capacity(), 1)) * time.Duration(s.lastJob.Load()).Seconds()
	return max(1, int(math.Ceil(secs)))
}
