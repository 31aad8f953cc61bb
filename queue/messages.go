package queue

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/flipbench/flipbench/job"
)

// Names on the broker. A front and its workers find each other by these.
const (
	// StreamName is the JetStream stream of jobs (work-queue retention: a
	// job leaves it once a worker acknowledges it).
	StreamName = "FLIPBENCH_JOBS"
	// ConsumerName is the durable pull consumer every worker fetches from.
	ConsumerName = "flipbench-workers"
	// BucketName is the object store of upload bodies and flipped uploads.
	BucketName = "flipbench-blobs"
	// StateBucket is the key-value bucket of submitted jobs' states, by id.
	StateBucket = "flipbench-jobs"

	jobsSubject     = "flipbench.jobs"
	workersSubject  = "flipbench.workers" // worker heartbeats
	frontPrefix     = "flipbench.front."  // + front id: that front's events
	startedLeaf     = ".started"
	doneLeaf        = ".done"
	inputSuffix     = ".in"
	outputSuffix    = ".out"
	heartbeatPeriod = time.Second
	// liveFor is how long a worker counts as live after its last heartbeat:
	// long enough to ride out a crashed local worker's restart.
	liveFor = 3 * heartbeatPeriod
	// noWorkerAfter is how long a front hears no worker at all before it
	// refuses jobs with 503. It is longer than liveFor: on a loaded machine a
	// worker busy with GOMAXPROCS=1, or a killed local worker's replacement
	// starting, may stay silent past liveFor, and jobs refused then were the
	// 503s seen when a local worker was killed mid-burst.
	noWorkerAfter = 10 * heartbeatPeriod
)

// jobMsg is one job on the stream.
type jobMsg struct {
	ID     string `json:"id"`
	Reply  string `json:"reply"`            // subject prefix of the front's events
	Upload bool   `json:"upload,omitempty"` // the body is the object ID+inputSuffix
	// Async says the job was submitted (POST /jobs): its state is in the
	// StateBucket, for any front to read.
	Async bool `json:"async,omitempty"`
}

// maxTokenLen bounds the front's id in a reply subject.
const maxTokenLen = 64

// decodeJob reads a job message as a worker takes it off the stream. What it
// accepts is safe to use: the id names only this job's objects, and the
// reply is one front's event subject, never a wildcard or another subject.
// On an error, j holds whatever fields could be read.
func decodeJob(data []byte) (jobMsg, error) {
	var j jobMsg
	if err := json.Unmarshal(data, &j); err != nil {
		return j, fmt.Errorf("decode job message: %w", err)
	}
	if !validID(j.ID) {
		return j, errors.New("job message: bad id")
	}
	if !validReply(j.Reply) {
		return j, errors.New("job message: bad reply subject")
	}
	return j, nil
}

// validID is whether s is a job id as NewJobID makes them.
func validID(s string) bool {
	_, err := ParseJobID(s)
	return err == nil
}

// validReply is whether s is frontPrefix and one plain token (a front id).
func validReply(s string) bool {
	tok, ok := strings.CutPrefix(s, frontPrefix)
	if !ok || tok == "" || len(tok) > maxTokenLen {
		return false
	}
	for _, r := range tok {
		if !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

// startedMsg says a worker has started a job.
type startedMsg struct {
	ID     string `json:"id"`
	PID    int    `json:"pid"`
	Worker int    `json:"worker"`
}

// resultMsg is what a worker did with a job. A flipped upload is the object
// ID+outputSuffix.
type resultMsg struct {
	ID      string        `json:"id"`
	PID     int           `json:"pid"`
	Worker  int           `json:"worker"`
	Host    string        `json:"host,omitempty"`
	JobTime time.Duration `json:"job_ns"`
	Bytes   int64         `json:"bytes,omitempty"`
	Steps   job.Steps     `json:"steps"`
	Format  string        `json:"format,omitempty"`
	Error   string        `json:"error,omitempty"`
	Kind    string        `json:"kind,omitempty"` // the job error Error wraps, by name
}

// heartbeatMsg is a worker's sign of life. Slots 0 says it is leaving.
type heartbeatMsg struct {
	ID    string `json:"id"`
	PID   int    `json:"pid"`
	Host  string `json:"host,omitempty"`
	Slots int    `json:"slots"`
}

// jobErrors are the job errors that cross the broker by name, so that the
// front answers a bad upload with the status a local server would.
var jobErrors = map[string]error{
	"empty":  job.ErrEmpty,
	"format": job.ErrFormat,
	"decode": job.ErrDecode,
	"pixels": job.ErrTooManyPixels,
}

// errorKind is the name of the job error err wraps, "" for none.
func errorKind(err error) string {
	for k, e := range jobErrors {
		if errors.Is(err, e) {
			return k
		}
	}
	return ""
}

// remoteError is a worker's error as the front sees it: the worker's text,
// wrapping the job error it named.
type remoteError struct {
	msg  string
	kind error
}

func (e *remoteError) Error() string { return e.msg }
func (e *remoteError) Unwrap() error { return e.kind }

// err is the result's error, nil when the job succeeded.
func (r resultMsg) err() error {
	if r.Error == "" {
		return nil
	}
	return &remoteError{msg: r.Error, kind: jobErrors[r.Kind]}
}
