package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/flipbench/flipbench/contract"
)

// Queue is Jobs that can also take a job now and answer later. Given one,
// the server serves the asynchronous API of package contract.
type Queue interface {
	Jobs
	// Submit queues a job (a nil upload is the article's photo job) and
	// returns its id without waiting for it.
	Submit(ctx context.Context, upload []byte) (id string, err error)
	// Status is where job id is; false when the id is unknown or expired,
	// an error when the store of job states did not answer.
	Status(ctx context.Context, id string) (JobState, bool, error)
	// Result is a done upload job's flipped image; an error wrapping
	// ErrNoResult when there is none (yet, or any more).
	Result(ctx context.Context, id string) (format string, image []byte, err error)
}

// JobState is where one job of a Queue is.
type JobState struct {
	State   string // one of contract's job states
	Upload  bool   // the job flips an upload, so a done job has a result image
	Outcome Outcome
	Err     error // why a failed job failed
}

// ErrNoResult is a result asked for that does not exist: the job is not done,
// is a photo job, or its result has expired.
var ErrNoResult = errors.New("no result")

// jobIDParam is the route parameter of a job's id.
const jobIDParam = "id"

func (s *Server) asyncRoutes(e *echo.Echo, q Queue) {
	e.POST(contract.PathJobs, func(c echo.Context) error { return s.handleSubmit(c, q) })
	e.GET(contract.JobPath(":"+jobIDParam), func(c echo.Context) error { return s.handleStatus(c, q) })
	e.GET(contract.JobResultPath(":"+jobIDParam), func(c echo.Context) error { return s.handleResult(c, q) })
}

func (s *Server) handleSubmit(c echo.Context, q Queue) error {
	upload, release, err := s.readBody(c)
	if err != nil {
		return err
	}
	defer release()
	id, err := q.Submit(c.Request().Context(), upload)
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, contract.JobPath(id))
	return c.JSON(http.StatusAccepted, contract.JobID{ID: id})
}

// errNoJob is the one answer for an id that names no job: never issued,
// malformed, or expired alike, and without echoing the id, so that a
// guesser learns nothing from it.
func errNoJob() error {
	return echo.NewHTTPError(http.StatusNotFound, "no such job (unknown, or expired)")
}

// lookup is the job the route names, or errNoJob.
func lookup(c echo.Context, q Queue) (string, JobState, error) {
	id := c.Param(jobIDParam)
	st, ok, err := q.Status(c.Request().Context(), id)
	if err != nil {
		return id, st, err
	}
	if !ok {
		return id, st, errNoJob()
	}
	return id, st, nil
}

func (s *Server) handleStatus(c echo.Context, q Queue) error {
	id, st, err := lookup(c, q)
	if err != nil {
		return err
	}
	body := contract.JobStatus{ID: id, State: st.State, PID: st.Outcome.PID}
	switch st.State {
	case contract.JobDone:
		body.QueueMS, body.JobMS = ms(st.Outcome.Queue), ms(st.Outcome.Job)
		if st.Upload {
			body.Result = contract.JobResultPath(id)
		}
	case contract.JobFailed:
		body.QueueMS, body.JobMS = ms(st.Outcome.Queue), ms(st.Outcome.Job)
		body.Error, body.Status = st.Err.Error(), status(st.Err)
	}
	return c.JSON(http.StatusOK, body)
}

func (s *Server) handleResult(c echo.Context, q Queue) error {
	id, st, err := lookup(c, q)
	if err != nil {
		return err
	}
	switch {
	case !st.Upload:
		return echo.NewHTTPError(http.StatusNotFound, fmt.Sprintf("job %q flips the server's photo: it has no result image", id))
	case st.State == contract.JobFailed:
		return echo.NewHTTPError(http.StatusConflict, fmt.Sprintf("job %q failed: %v", id, st.Err))
	case st.State != contract.JobDone:
		return echo.NewHTTPError(http.StatusConflict, fmt.Sprintf("job %q is %s", id, st.State))
	}
	format, image, err := q.Result(c.Request().Context(), id)
	if errors.Is(err, ErrNoResult) {
		return errNoJob()
	}
	if err != nil {
		return err
	}
	return c.Blob(http.StatusOK, "image/"+format, image)
}
