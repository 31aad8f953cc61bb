// Package queue carries flip jobs over NATS JetStream: the broker side (an
// embedded server, the stream, the consumer, the blob bucket), the messages,
// the front's client (Front, a server.Queue) and the worker loop
// (RunWorker). It knows nothing of HTTP or processes.
//
// # Libraries
//
// nats-server/v2 (v2.15.2) runs embedded in the front, so the default setup
// is one binary; nats.go (v1.55.0) with its jetstream package (the
// maintained JetStream API) is the client. Both are the NATS project's own.
//
// # The path of a job
//
// The front records the job, puts an upload in the bucket, and publishes a
// small job message on the stream (work-queue retention: the message leaves
// once acknowledged). Each worker slot pulls one job only while it is free
// (a pull consumer, Fetch(1)), publishes "started" to the front, runs the
// job, publishes the result, flushes, and only then acknowledges. The front
// turns "started" into the running state and the queue time (publication to
// start, both on the front's clock, as worker clocks may differ), and the
// result into done or failed.
//
// # Decisions
//
// Ack deadline: AckWait (DefaultAckWait, 10 s) starts when a job is
// delivered, not published, and a worker fetches only with a free slot, so a
// queue minutes long never eats into it. While a job runs, its worker sends
// an in-progress ack every third of AckWait, so a slow job is never handed to
// a second worker while its first is alive. A worker killed mid-job has its
// job delivered again after at most AckWait: nothing is lost, and a shorter
// AckWait recovers sooner at the cost of more in-progress acks.
//
// A job delivered twice (its worker died after publishing the result but
// before acknowledging, or stalled past AckWait) runs twice; the jobs are
// idempotent and the front keeps the first result and drops the later one.
// A publication is deduplicated by job id (Nats-Msg-Id). A job delivered
// more than maxAttempts times fails instead of running again: it is what
// kills its workers.
//
// No worker: workers announce themselves every second (and their leaving);
// a worker is live for 3 s after its last word, which rides out a crashed
// local worker's restart. With no live worker, POST /flip and POST /jobs
// answer 503 with a Retry-After, as for a full queue, rather than wait
// without bound; /healthz reports capacity 0. Jobs already queued stay on
// the stream and run when a worker comes.
//
// Big uploads: no message carries an image. An upload goes into a JetStream
// object store bucket (which chunks it into small messages) and the job
// names it; the worker puts the flipped image back there. So uploads up to
// the server's -max-body pass a broker with the 1 MB default max_payload, and
// nobody has to raise it. The front deletes the input at the first result,
// a /flip output once answered, and the bucket's TTL (result TTL + 1 h)
// removes what is left.
//
// Memory: the front stores at most MaxJobs jobs (the oldest finished make
// room; finished ones expire after ResultTTL), at most MaxQueue of them
// unfinished, and no image: results stay in the bucket.
//
// # Who may reach what
//
// Job ids are capabilities: 128 bits from crypto/rand, base64url (NewJobID).
// Whoever holds one may read the job and its result, and nobody can derive
// one id from another, as they could from NUIDs (a random prefix and a
// sequence). NUIDs remain where only uniqueness matters: a front's event
// subject, a worker's presence id. An unknown, expired or malformed id is
// told apart from nothing by the HTTP answer.
//
// The broker is the other door: whoever can publish on it can read every
// upload, queue jobs and delete the stream. The embedded server therefore
// demands a credential (Auth: user and password, a token, or an nkey; a
// .creds file needs an external server in operator mode) and may serve TLS;
// it refuses to listen beyond loopback with no credential unless told it
// may (EmbeddedConfig.Insecure). Every client, front and worker, presents
// the same credential: the broker's users are trusted alike, so a worker
// host that leaks it exposes the broker. A worker still checks each job
// message (decodeJob): its id must be an id and its reply one front's event
// subject, so a bad message fails its job and never the worker.
package queue
