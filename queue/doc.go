// Package queue carries flip jobs over NATS JetStream: the broker side (an
// embedded server, the stream, the consumer, the state and blob buckets), the messages,
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
// For POST /jobs the front creates the job's record (queued) in the
// StateBucket, a JetStream key-value bucket keyed by job id, puts an upload
// in the object store, and publishes a small job message on the stream
// (work-queue retention: the message leaves once acknowledged). Each worker
// slot pulls one job only while it is free (a pull consumer, Fetch(1)),
// moves the record to running, runs the job, writes the result into the
// record, publishes it as an event, and only then acknowledges (on the same
// connection, which the server reads in order). Any
// front reads the record: fronts hold no job state, a 202 survives a front
// restart, and behind a load balancer any front answers for any job. The
// queue time is between the queued and running revisions, both stamped by
// the broker (worker clocks may differ from the front's).
//
// POST /flip waits in the front that took it: the worker's events reach it
// on its own subject (core NATS, fast), and the result also lands in the
// bucket, which the front rereads after a reconnect, when events sent while
// it was away are lost.
//
// # Decisions
//
// State by compare-and-set: a worker updates a record with the revision it
// read (KeyValue.Update); on a conflict it reads again and decides again. A
// finished record is never overwritten, so of two deliveries of a job the
// first result stays, and a job already finished is not run again. The
// bucket's stream reads through its leader (AllowDirect off): with replicas,
// a follower may not yet have a record a 202 just promised. Records expire
// ResultTTL after they finish (the bucket's own TTL, ResultTTL + 1 h, bounds
// a queued one).
//
// Replicas: the stream, the state bucket and the object store get Replicas
// copies (-replicas). The embedded server is one node, so 1; on an external
// cluster the default is 3 when the client knows of at least 3 servers, so
// that a node lost loses no job, state or upload (with one replica, killing
// one node of 3 lost 1 to 8 requests of 30 here, which hung).
//
// Bounded waits: every publish, bucket read or write and object transfer is
// tried for at most opTimeout (2 s) at a time and OpBudget (12 s) in all,
// again after errors that pass (a leader election, a reconnect, no
// responders); a retried publish is kept once (Nats-Msg-Id is the job id).
// Past OpBudget the client gets 503 (server.ErrUnavailable); a POST /flip
// whose result has not come within ResultTimeout gets 504. At start a front and
// a worker wait for the broker, at most StartWait, logging what they wait
// for (a cluster elects its meta leader for a few seconds after it starts).
//
// Ack deadline: AckWait (DefaultAckWait, 10 s) starts when a job is
// delivered, not published, and a worker fetches only with a free slot, so a
// queue minutes long never eats into it. While a job runs, its worker sends
// an in-progress ack every third of AckWait, so a slow job is never handed to
// a second worker while its first is alive. A worker killed mid-job has its
// job delivered again after at most AckWait: nothing is lost, and a shorter
// AckWait recovers sooner at the cost of more in-progress acks. A local
// worker whose front died (kill -9) abandons its jobs at once: no result, no
// ack, and another worker gets them after AckWait. So does a submitted job
// whose finish its worker could not record (the front died as the job ended,
// or the broker did not answer): acked, it would read running for ever.
//
// A job delivered twice (its worker died after publishing the result but
// before acknowledging, or stalled past AckWait) runs twice unless its record
// is already finished; the jobs are idempotent and only the first result
// counts. A job delivered more than maxAttempts times fails instead of
// running again: it is what kills its workers.
//
// No worker: workers announce themselves every second (and their leaving).
// A worker counts in /healthz's capacity for 3 s after its last word, but a
// front refuses jobs (503 with a Retry-After) only when it has heard no
// worker at all for 10 s. The shorter window once refused jobs too: under
// load a worker busy at GOMAXPROCS=1, or a killed local worker's replacement
// still starting, can be silent past 3 s, and requests arriving then got the
// 503s seen when a local worker was killed mid-burst. Jobs already queued stay
// on the stream and run when a worker comes.
//
// Big uploads: no message carries an image. An upload goes into a JetStream
// object store bucket (which chunks it into small messages) and the job
// names it; the worker puts the flipped image back there. So uploads up to
// the server's -max-body pass a broker with the 1 MB default max_payload, and
// nobody has to raise it. The worker deletes the input once its result is
// out, the front a /flip output once answered, and the bucket's TTL (result
// TTL + 1 h) removes what is left.
//
// Bounds: the stream holds at most MaxQueue jobs (DiscardNew: one more gets
// 503, whichever front takes it); a front waits for at most MaxJobs POST
// /flip jobs at once. A front keeps no image: results stay in the bucket.
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
