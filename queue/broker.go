package queue

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/flipbench/flipbench/internal/access"
	"github.com/flipbench/flipbench/job"
)

// readyWait bounds how long StartEmbedded waits for the server to take
// connections.
const readyWait = 10 * time.Second

// DefaultListen is where an embedded server listens when not told: loopback,
// a free port, for the front's own worker processes only.
const DefaultListen = "127.0.0.1:0"

// Embedded is a NATS server with JetStream running inside this process, its
// store in this process's work dir (job.WorkDir): Close removes it, and
// after a crash job.RemoveStale does.
type Embedded struct {
	ns   *server.Server
	dir  string // the store
	work string // this process's work dir, which holds the store
	url  string
	auth Auth
}

// EmbeddedConfig is what StartEmbedded needs.
type EmbeddedConfig struct {
	Listen  string // host:port; port 0 picks a free one
	TempDir string // base of the store dir ("" is os.TempDir())
	Auth    Auth   // what every client must present; none admits anyone
	TLS     TLS    // the server's certificate; none is plain TCP
	// Insecure lets a server without credentials listen beyond loopback.
	Insecure bool
	// Monitor is the host:port of the server's own monitoring endpoint
	// (/varz, /jsz, ...: what the NATS tools and exporters read); "" serves
	// none, port 0 picks one. It asks for no credential of its own, so it
	// follows Listen's rule: beyond loopback only with Auth or Insecure.
	Monitor string
}

// StartEmbedded starts a NATS server with JetStream as cfg says, its store
// in a new dir under cfg.TempDir, and waits until it takes connections. It
// refuses, with ErrNoCredentials, to listen beyond loopback without
// credentials unless cfg.Insecure.
func StartEmbedded(cfg EmbeddedConfig) (*Embedded, error) {
	host, port, err := cfg.address(cfg.Listen, "listen")
	if err != nil {
		return nil, err
	}
	opts := &server.Options{
		ServerName: "flipbench-front",
		Host:       host,
		Port:       port,
		JetStream:  true,
		NoLog:      true,
		NoSigs:     true, // the front handles its own signals
	}
	if cfg.Monitor != "" {
		if opts.HTTPHost, opts.HTTPPort, err = cfg.address(cfg.Monitor, "monitor"); err != nil {
			return nil, err
		}
	}
	if err := cfg.Auth.serverOptions(opts); err != nil {
		return nil, err
	}
	if opts.TLSConfig, err = cfg.TLS.serverConfig(); err != nil {
		return nil, err
	}
	opts.TLSTimeout = 5 // seconds; the default 0.5 is short for a loaded machine
	// The store sits in this process's work dir, which the next start of
	// any server removes once this process is gone, even after kill -9.
	base := cfg.TempDir
	if base == "" {
		base = os.TempDir()
	}
	work := job.WorkDir(base, os.Getpid())
	if err := os.MkdirAll(work, 0o700); err != nil {
		return nil, fmt.Errorf("nats store dir: %w", err)
	}
	dir, err := os.MkdirTemp(work, "nats-")
	if err != nil {
		return nil, fmt.Errorf("nats store dir: %w", err)
	}
	opts.StoreDir = dir
	ns, err := server.NewServer(opts)
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("nats server: %w", err)
	}
	ns.Start()
	if !ns.ReadyForConnections(readyWait) {
		ns.Shutdown()
		os.RemoveAll(dir)
		return nil, fmt.Errorf("nats server not ready after %s", readyWait)
	}
	e := &Embedded{ns: ns, dir: dir, work: work, auth: cfg.Auth}
	if a, ok := ns.Addr().(*net.TCPAddr); ok {
		if a.IP.IsUnspecified() {
			// Every interface: local workers dial loopback, which a
			// certificate for this host names most often.
			a = &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: a.Port}
		}
		e.url = "nats://" + a.String()
	} else {
		e.url = ns.ClientURL()
	}
	return e, nil
}

// address splits one of the server's addresses into a host and a port for
// its options (RANDOM_PORT for port 0, which NATS reads as its default),
// and refuses one beyond loopback without credentials unless Insecure.
func (cfg EmbeddedConfig) address(addr, what string) (string, int, error) {
	host, portText, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, fmt.Errorf("nats %s address %q: %w", what, addr, err)
	}
	port, err := strconv.Atoi(portText)
	if err != nil || port < 0 {
		return "", 0, fmt.Errorf("nats %s address %q: bad port", what, addr)
	}
	if !cfg.Auth.Set() && !cfg.Insecure && !access.Loopback(addr) {
		return "", 0, fmt.Errorf("%w: %s address %s is not loopback", ErrNoCredentials, what, addr)
	}
	if port == 0 {
		port = server.RANDOM_PORT
	}
	return host, port, nil
}

// MonitorURL is the server's monitoring endpoint, e.g.
// http://127.0.0.1:8222; "" when it serves none.
func (e *Embedded) MonitorURL() string {
	if a := e.ns.MonitorAddr(); a != nil {
		return "http://" + a.String()
	}
	return ""
}

// URL is where workers reach the server, e.g. nats://127.0.0.1:35813.
func (e *Embedded) URL() string { return e.url }

// Connect connects to the server in process, without the network, with
// the server's own credentials.
func (e *Embedded) Connect(opts ...nats.Option) (*nats.Conn, error) {
	authOpts, err := e.auth.ClientOptions()
	if err != nil {
		return nil, err
	}
	nc, err := nats.Connect("", append(append(authOpts, opts...), nats.InProcessServer(e.ns))...)
	if err != nil {
		return nil, fmt.Errorf("connect to the embedded nats server: %w", err)
	}
	return nc, nil
}

// Close stops the server and removes its store.
func (e *Embedded) Close() error {
	e.ns.Shutdown()
	e.ns.WaitForShutdown()
	if err := os.RemoveAll(e.dir); err != nil {
		return fmt.Errorf("remove nats store: %w", err)
	}
	_ = os.Remove(e.work) // when nothing else of this process is in it
	return nil
}

// Dial connects to the NATS server at url (a comma-separated list for a
// cluster), reconnecting for ever after a lost connection: a worker or a
// front outlives a broker restart. opts come after the defaults.
func Dial(url, name string, opts ...nats.Option) (*nats.Conn, error) {
	opts = append([]nats.Option{nats.Name(name), nats.MaxReconnects(-1), nats.ReconnectWait(250 * time.Millisecond)}, opts...)
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		return nil, fmt.Errorf("connect to nats %s: %w", url, err)
	}
	return nc, nil
}

// layout is what setup makes on the broker.
type layout struct {
	ackWait  time.Duration
	blobTTL  time.Duration // the object store's
	stateTTL time.Duration // the state bucket's
	replicas int
	maxQueue int // jobs on the stream at most, across fronts
}

// setup creates (or updates) the stream, the workers' consumer, the blob
// bucket and the state bucket, each with l.replicas replicas.
func setup(ctx context.Context, js jetstream.JetStream, l layout) (jetstream.ObjectStore, states, error) {
	_, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:       StreamName,
		Subjects:   []string{jobsSubject},
		Retention:  jetstream.WorkQueuePolicy,
		Storage:    jetstream.FileStorage,
		Replicas:   l.replicas,
		MaxMsgs:    int64(l.maxQueue),
		Discard:    jetstream.DiscardNew, // a full queue refuses a job (503), never drops one
		Duplicates: 2 * time.Minute,      // a publish retried with the same job id is kept once
	})
	if err != nil {
		return nil, states{}, fmt.Errorf("create stream %s: %w", StreamName, err)
	}
	_, err = js.CreateOrUpdateConsumer(ctx, StreamName, jetstream.ConsumerConfig{
		Durable:       ConsumerName,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       l.ackWait,
		MaxDeliver:    -1, // a worker gives up on a job itself, see maxAttempts
		MaxAckPending: -1, // replicas: the stream's
	})
	if err != nil {
		return nil, states{}, fmt.Errorf("create consumer %s: %w", ConsumerName, err)
	}
	blobs, err := js.CreateOrUpdateObjectStore(ctx, jetstream.ObjectStoreConfig{
		Bucket:   BucketName,
		TTL:      l.blobTTL,
		Storage:  jetstream.FileStorage,
		Replicas: l.replicas,
	})
	if err != nil {
		return nil, states{}, fmt.Errorf("create object store %s: %w", BucketName, err)
	}
	if _, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:   StateBucket,
		TTL:      l.stateTTL,
		Storage:  jetstream.FileStorage,
		Replicas: l.replicas,
	}); err != nil {
		return nil, states{}, fmt.Errorf("create key-value bucket %s: %w", StateBucket, err)
	}
	if err := leaderReads(ctx, js); err != nil {
		return nil, states{}, err
	}
	kv, err := js.KeyValue(ctx, StateBucket)
	if err != nil {
		return nil, states{}, fmt.Errorf("bind key-value bucket %s: %w", StateBucket, err)
	}
	return blobs, states{kv: kv}, nil
}

// leaderReads turns off direct gets on the state bucket's stream. With
// replicas, a direct get may be answered by a follower that has not yet
// seen a write: a job accepted with 202 by one front would be 404 on
// another for a moment. Reads through the leader see every acknowledged
// write.
func leaderReads(ctx context.Context, js jetstream.JetStream) error {
	name := "KV_" + StateBucket
	st, err := js.Stream(ctx, name)
	if err != nil {
		return fmt.Errorf("find stream %s: %w", name, err)
	}
	cfg := st.CachedInfo().Config
	if !cfg.AllowDirect {
		return nil
	}
	cfg.AllowDirect = false
	if _, err := js.UpdateStream(ctx, cfg); err != nil {
		return fmt.Errorf("read %s through its leader: %w", name, err)
	}
	return nil
}

// waitForBroker runs op until it succeeds or ctx is done, logging what it
// waits for: a broker may still be starting, or electing its leaders.
func waitForBroker(ctx context.Context, log *slog.Logger, what string, op func(ctx context.Context) error) error {
	started := time.Now()
	pause := retryPause
	for {
		attempt, cancel := context.WithTimeout(ctx, opTimeout)
		err := op(attempt)
		cancel()
		if err == nil {
			return nil
		}
		if !errors.Is(err, jetstream.ErrStreamNotFound) && !errors.Is(err, jetstream.ErrConsumerNotFound) &&
			!errors.Is(err, jetstream.ErrBucketNotFound) && permanent(err) {
			return fmt.Errorf("%s: %w", what, err)
		}
		log.Info("waiting for the broker", "for", what, "waited", time.Since(started).Round(time.Millisecond), "err", err)
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: gave up after %s: %w", what, time.Since(started).Round(time.Millisecond), err)
		case <-time.After(pause):
			pause = min(2*pause, 2*time.Second)
		}
	}
}

// refused is why nc cannot connect when waiting will not help: a
// certificate it does not trust. (nats.go closes a connection whose
// credential is refused, which ErrConnectionClosed tells.)
func refused(nc *nats.Conn) error {
	if nc.IsConnected() {
		return nil
	}
	if err := nc.LastError(); errors.Is(err, nats.ErrTLS) {
		return err
	}
	return nil
}

// bound is what a worker binds to: the consumer, the blobs and the states.
type bound struct {
	cons   jetstream.Consumer
	blobs  jetstream.ObjectStore
	states states
}

// bind waits until the stream's consumer and the buckets exist (a worker
// may start before its front) and returns them.
func bind(ctx context.Context, js jetstream.JetStream, log *slog.Logger) (bound, error) {
	var b bound
	err := waitForBroker(ctx, log, "a front to create "+StreamName, func(ctx context.Context) error {
		if err := refused(js.Conn()); err != nil {
			return err
		}
		cons, err := js.Consumer(ctx, StreamName, ConsumerName)
		if err != nil {
			return err
		}
		blobs, err := js.ObjectStore(ctx, BucketName)
		if err != nil {
			return err
		}
		kv, err := js.KeyValue(ctx, StateBucket)
		if err != nil {
			return err
		}
		b = bound{cons: cons, blobs: blobs, states: states{kv: kv}}
		return nil
	})
	return b, err
}
