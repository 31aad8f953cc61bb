package queue

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/flipbench/flipbench/internal/access"
)

// readyWait bounds how long StartEmbedded waits for the server to take
// connections.
const readyWait = 10 * time.Second

// DefaultListen is where an embedded server listens when not told: loopback,
// a free port, for the front's own worker processes only.
const DefaultListen = "127.0.0.1:0"

// Embedded is a NATS server with JetStream running inside this process, its
// store in a temp dir that Close removes.
type Embedded struct {
	ns   *server.Server
	dir  string
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
}

// StartEmbedded starts a NATS server with JetStream as cfg says, its store
// in a new dir under cfg.TempDir, and waits until it takes connections. It
// refuses, with ErrNoCredentials, to listen beyond loopback without
// credentials unless cfg.Insecure.
func StartEmbedded(cfg EmbeddedConfig) (*Embedded, error) {
	host, portText, err := net.SplitHostPort(cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("nats listen address %q: %w", cfg.Listen, err)
	}
	port, err := strconv.Atoi(portText)
	if err != nil || port < 0 {
		return nil, fmt.Errorf("nats listen address %q: bad port", cfg.Listen)
	}
	if !cfg.Auth.Set() && !cfg.Insecure && !access.Loopback(cfg.Listen) {
		return nil, fmt.Errorf("%w: %s is not loopback", ErrNoCredentials, cfg.Listen)
	}
	if port == 0 {
		port = server.RANDOM_PORT // NATS reads 0 as its default port, 4222
	}
	opts := &server.Options{
		ServerName: "flipbench-front",
		Host:       host,
		Port:       port,
		JetStream:  true,
		NoLog:      true,
		NoSigs:     true, // the front handles its own signals
	}
	if err := cfg.Auth.serverOptions(opts); err != nil {
		return nil, err
	}
	if opts.TLSConfig, err = cfg.TLS.serverConfig(); err != nil {
		return nil, err
	}
	opts.TLSTimeout = 5 // seconds; the default 0.5 is short for a loaded machine
	dir, err := os.MkdirTemp(cfg.TempDir, "flipbench-nats-")
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
	e := &Embedded{ns: ns, dir: dir, auth: cfg.Auth}
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

// setup creates (or updates) the stream, the workers' consumer and the
// blob bucket.
func setup(ctx context.Context, js jetstream.JetStream, ackWait, blobTTL time.Duration) (jetstream.ObjectStore, error) {
	_, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:       StreamName,
		Subjects:   []string{jobsSubject},
		Retention:  jetstream.WorkQueuePolicy,
		Storage:    jetstream.FileStorage,
		Duplicates: 2 * time.Minute, // a publish retried with the same job id is kept once
	})
	if err != nil {
		return nil, fmt.Errorf("create stream %s: %w", StreamName, err)
	}
	_, err = js.CreateOrUpdateConsumer(ctx, StreamName, jetstream.ConsumerConfig{
		Durable:       ConsumerName,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       ackWait,
		MaxDeliver:    -1, // a worker gives up on a job itself, see maxAttempts
		MaxAckPending: -1,
	})
	if err != nil {
		return nil, fmt.Errorf("create consumer %s: %w", ConsumerName, err)
	}
	blobs, err := js.CreateOrUpdateObjectStore(ctx, jetstream.ObjectStoreConfig{
		Bucket:  BucketName,
		TTL:     blobTTL,
		Storage: jetstream.FileStorage,
	})
	if err != nil {
		return nil, fmt.Errorf("create object store %s: %w", BucketName, err)
	}
	return blobs, nil
}

// bind waits until the stream's consumer and the bucket exist (a worker may
// start before its front) and returns them.
func bind(ctx context.Context, js jetstream.JetStream) (jetstream.Consumer, jetstream.ObjectStore, error) {
	for {
		cons, err := js.Consumer(ctx, StreamName, ConsumerName)
		if err == nil {
			blobs, berr := js.ObjectStore(ctx, BucketName)
			if berr == nil {
				return cons, blobs, nil
			}
			err = berr
		}
		if !errors.Is(err, jetstream.ErrStreamNotFound) && !errors.Is(err, jetstream.ErrConsumerNotFound) &&
			!errors.Is(err, jetstream.ErrBucketNotFound) {
			return nil, nil, fmt.Errorf("find consumer %s: %w", ConsumerName, err)
		}
		select {
		case <-ctx.Done():
			return nil, nil, fmt.Errorf("wait for a front to create %s: %w", StreamName, ctx.Err())
		case <-time.After(250 * time.Millisecond):
		}
	}
}
