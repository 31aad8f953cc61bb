// Package contract is what every flipbench server (Go or Node), the fake
// server the tests use and the load driver agree on: routes, response
// headers, the /healthz body, the flags a server takes and their defaults,
// and how a server tells its caller the address it bound. docs/CONTRACT.md
// explains it; in Go, this package is its only source, so the programs that
// share it cannot drift apart.
package contract

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"
)

// Routes every server serves.
const (
	PathPID    = "/"        // GET: the answering process's pid, text/plain
	PathHealth = "/healthz" // GET: a Health as JSON
	PathFlip   = "/flip"    // POST: the job
)

// Monitoring routes. cmd/standard serves PathMetrics on its own address;
// cmd/clustered's master serves all three on its -admin address only.
const (
	PathMetrics = "/metrics"      // GET: Prometheus text format
	PathWorkers = "/workers"      // GET: a Workers as JSON (clustered -admin)
	PathPprof   = "/debug/pprof/" // net/http/pprof's index (clustered -admin)
)

// Workers is the body of GET PathWorkers: every live worker process, as
// the master sees it, by index then start time. During a rolling restart
// an index has two: the retiring one and its replacement.
type Workers struct {
	MasterPID int            `json:"master_pid"`
	Workers   []WorkerStatus `json:"workers"`
}

// WorkerStatus is one worker process in Workers. Its job counts are from
// the worker's last report (about every second; StatsAt), zero before one.
type WorkerStatus struct {
	Worker   int       `json:"worker"` // index in the cluster
	PID      int       `json:"pid"`
	State    string    `json:"state"` // starting, ready, retiring or stopping
	Started  time.Time `json:"started"`
	Restarts int       `json:"restarts"` // processes its index had before it: crash replacements and rolling restarts
	RSSBytes uint64    `json:"rss_bytes"`
	Done     int64     `json:"done"`
	Failed   int64     `json:"failed"`
	InFlight int       `json:"in_flight"`
	Queued   int       `json:"queued"`
	StatsAt  time.Time `json:"stats_at,omitzero"`
}

// Routes of the asynchronous API (cmd/queued). POST PathJobs takes the same
// bodies as PathFlip and answers 202 with a JobID, and a Location header of
// JobPath(id); GET JobPath(id) answers a JobStatus; GET JobResultPath(id) the
// flipped image of an upload job once it is done.
const (
	PathJobs      = "/jobs"
	jobResultLeaf = "/result"
)

// JobPath is the route of one job's status.
func JobPath(id string) string { return PathJobs + "/" + id }

// JobResultPath is the route of one job's flipped image.
func JobResultPath(id string) string { return JobPath(id) + jobResultLeaf }

// JobID is the body of POST /jobs.
type JobID struct {
	ID string `json:"id"`
}

// Job states, in the order a job goes through them.
const (
	JobQueued  = "queued"  // published, no worker has started it
	JobRunning = "running" // a worker has started it
	JobDone    = "done"
	JobFailed  = "failed"
)

// JobStatus is the body of GET JobPath(id).
type JobStatus struct {
	ID    string `json:"id"`
	State string `json:"state"`
	// PID is the worker that ran it (set once running).
	PID     int     `json:"pid,omitempty"`
	QueueMS float64 `json:"queue_ms,omitempty"` // publish to a worker's start
	JobMS   float64 `json:"job_ms,omitempty"`   // the worker's job time
	// Result is the route of the flipped image, for a done upload job.
	Result string `json:"result,omitempty"`
	// Error and Status say why a failed job failed, and the status /flip
	// would have answered.
	Error  string `json:"error,omitempty"`
	Status int    `json:"status,omitempty"`
}

// Response headers. HeaderWorkerPID is on every answer; the others on every
// /flip answer, errors included, as Go duration strings (time.ParseDuration
// reads them). Queue and job time are "0s" when no job ran.
const (
	HeaderWorkerPID    = "X-Worker-PID"
	HeaderResponseTime = "X-Response-Time"
	HeaderQueueTime    = "X-Queue-Time"
	HeaderJobTime      = "X-Job-Time"
)

// Health is the body of GET /healthz. In a cluster a worker answers it: its
// Capacity is its own, and Capacity × Workers is the server's.
type Health struct {
	PID        int    `json:"pid"`
	Mode       string `json:"mode"`
	Worker     int    `json:"worker"` // index in a cluster, -1 otherwise
	GOMAXPROCS int    `json:"gomaxprocs,omitempty"`
	// Capacity is how many jobs this process runs at once.
	Capacity int `json:"capacity"`
	// Workers is how many processes like this one serve the address (1
	// unless it is a cluster).
	Workers       int     `json:"workers"`
	UptimeSeconds float64 `json:"uptime_seconds"`
	InFlight      int     `json:"in_flight"`
	Queued        int     `json:"queued"`
	Done          int64   `json:"done"`
	Failed        int64   `json:"failed"`
}

// TotalCapacity is how many jobs the whole server runs at once: Capacity ×
// Workers, with an absent Workers (a server older than the field) read as 1.
func (h Health) TotalCapacity() int {
	return h.Capacity * max(h.Workers, 1)
}

// DecodeHealth reads a /healthz body. An absent worker index reads as -1.
func DecodeHealth(body []byte) (Health, error) {
	h := Health{Worker: -1}
	if err := json.Unmarshal(body, &h); err != nil {
		return Health{}, fmt.Errorf("healthz: %w", err)
	}
	if h.Capacity < 1 {
		return Health{}, fmt.Errorf("healthz: capacity %d, want at least 1", h.Capacity)
	}
	return h, nil
}

// Flag names. Every server takes the common ones; a caller passes them as
// Arg builds them, which Go's flag package and Node's util.parseArgs both read.
const (
	FlagAddr            = "addr"
	FlagAddrFile        = "addr-file"
	FlagImage           = "image"
	FlagTempDir         = "tmpdir"
	FlagMaxQueue        = "max-queue"
	FlagMaxBody         = "max-body"
	FlagMaxPixels       = "max-pixels"
	FlagLogFormat       = "log-format"
	FlagShutdownTimeout = "shutdown-timeout"
	FlagHeaderTimeout   = "read-header-timeout"
	FlagIdleTimeout     = "idle-timeout"

	FlagProcs   = "procs"   // cmd/standard: GOMAXPROCS
	FlagEngine  = "engine"  // cmd/standard, cmd/clustered: the image library (imaging, vips); nodeapp: jimp, sharp
	FlagWorkers = "workers" // clusters: worker processes
	FlagBalance = "balance" // cmd/clustered: how connections reach workers
	FlagGrace   = "grace"   // cmd/clustered: how long a stop waits for workers
	FlagAdmin   = "admin"   // cmd/clustered: the master's monitoring address; off when empty

	// cmd/queued: the broker, the async API's bounds, a worker's slots.
	FlagNATS          = "nats"           // an external NATS server's URL
	FlagNATSListen    = "nats-listen"    // the embedded NATS server's address
	FlagNATSMonitor   = "nats-monitor"   // the embedded NATS server's monitoring address (/varz, /jsz); off when empty
	FlagMetricsAddr   = "metrics-addr"   // a worker on its own: where it serves /metrics; off when empty
	FlagAckWait       = "ack-wait"       // how long a job may go without word from its worker
	FlagResultTTL     = "result-ttl"     // how long a finished job is kept
	FlagMaxJobs       = "max-jobs"       // jobs stored at once
	FlagSlots         = "slots"          // a worker's jobs at once
	FlagReplicas      = "replicas"       // replicas of the stream and the buckets
	FlagNATSWait      = "nats-wait"      // how long a front or worker waits for its broker at start
	FlagResultTimeout = "result-timeout" // how long POST /flip waits for its result
	FlagBrokerTimeout = "broker-timeout" // how long a request waits on one broker operation

	// cmd/queued, front and worker: NATS credentials (one form) and TLS.
	// Secrets come from a file or the environment, never a flag value.
	FlagNATSUser         = "nats-user"          // with a password from FlagNATSPasswordFile or EnvNATSPassword
	FlagNATSPasswordFile = "nats-password-file" // a file holding the password
	FlagNATSTokenFile    = "nats-token-file"    // a file holding a token (or EnvNATSToken)
	FlagNATSNkey         = "nats-nkey"          // an nkey seed file
	FlagNATSCreds        = "nats-creds"         // a .creds file (JWT and seed), external servers only
	FlagNATSCert         = "nats-cert"          // TLS certificate: the embedded server's, or a client's
	FlagNATSKey          = "nats-key"           // its private key
	FlagNATSCA           = "nats-ca"            // the CA that verifies the NATS server
	FlagNATSInsecure     = "nats-insecure"      // let the embedded server listen beyond loopback without credentials

	// cmd/clustered: the admin address's bearer token, from a file or EnvAdminToken.
	FlagAdminTokenFile = "admin-token-file"

	// cmd/clustered: the supervisor's watchdog and its limits per worker.
	FlagWorkerTimeout     = "worker-timeout"      // a worker silent this long is killed and replaced
	FlagJobTimeout        = "job-timeout"         // a job running this long is answered 503 and its worker replaced
	FlagMaxRequests       = "max-requests"        // a worker is replaced gracefully after this many jobs
	FlagMaxRequestsJitter = "max-requests-jitter" // plus up to this many more, per worker
	FlagMaxRSS            = "max-rss"             // a worker is replaced gracefully above this RSS (go-humanize size)
)

// Defaults of the supervisor's timeouts. A job on the full photo takes
// about 0.9-1.1 s on this project's 2-core machines; ten times that leaves
// room for a loaded, shared machine and still catches a stuck job.
// Workers beat every second from a goroutine of their own, so ten missed
// beats mean a stuck process, not a slow job.
const (
	DefaultJobTimeout    = 10 * time.Second
	DefaultWorkerTimeout = 10 * time.Second
)

// Environment variables that may carry secrets instead of a file.
const (
	EnvNATSPassword = "FLIPBENCH_NATS_PASSWORD"
	EnvNATSToken    = "FLIPBENCH_NATS_TOKEN"
	EnvAdminToken   = "FLIPBENCH_ADMIN_TOKEN"
)

// CommandWorker is the subcommand that makes cmd/queued a worker.
const CommandWorker = "worker"

// Defaults of the common flags (the job's own limits are job.DefaultMaxQueue
// and job.DefaultMaxPixels).
const (
	DefaultAddr            = ":3000"
	DefaultMaxBody         = 64 << 20
	DefaultShutdownTimeout = 10 * time.Minute
	// DefaultHeaderTimeout bounds how long a client may take to send a
	// request's headers (a slowloris is cut off after it).
	DefaultHeaderTimeout = 10 * time.Second
	// DefaultIdleTimeout is how long a kept-alive connection may wait for
	// its next request; it holds no job slot meanwhile.
	DefaultIdleTimeout = time.Minute
	DefaultLogFormat   = "text"
)

// Images of the article's experiment and of the quick runs, relative to the
// repository root.
const (
	DefaultImage = "testdata/photo-6.7mb.jpg"
	QuickImage   = "testdata/photo-1mp.jpg"
)

// Arg renders one flag for a server's command line as --name=value.
func Arg(name, value string) string { return "--" + name + "=" + value }

// WriteAddrFile records addr (host:port) in path for whoever started the
// server: it writes a sibling file and renames it, so a reader never sees a
// partial line.
func WriteAddrFile(path, addr string) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(addr+"\n"), 0o644); err != nil {
		return fmt.Errorf("addr file: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("addr file: %w", err)
	}
	return nil
}

// ErrNoAddr is returned by ReadAddrFile while the server has not written its
// address yet.
var ErrNoAddr = errors.New("server has not written its address yet")

// ReadAddrFile returns the address a server wrote with WriteAddrFile, or an
// error wrapping ErrNoAddr while there is none.
func ReadAddrFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("%s: %w", path, ErrNoAddr)
	}
	if err != nil {
		return "", fmt.Errorf("addr file: %w", err)
	}
	addr := strings.TrimSpace(string(b))
	if addr == "" {
		return "", fmt.Errorf("%s: %w", path, ErrNoAddr)
	}
	return addr, nil
}
