package loadtest

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// DefaultTimeout is the client timeout of an attack when none is given: long
// enough for the last request of a 1000-deep queue of 830 ms jobs on one core.
const DefaultTimeout = 30 * time.Minute

// DefaultMaxBody is how many bytes of each response body are kept in a result.
const DefaultMaxBody = 64 << 10

// MaxLevel is the largest burst a run accepts: each request holds a
// connection and a worker goroutine.
const MaxLevel = 100000

// maxSustainWorkers caps the workers (and so the open connections) of a
// sustained attack.
const maxSustainWorkers = 10000

// burstPacer releases exactly n hits at once and then stops. With as many
// workers as hits, every request is sent at the same instant. Its Rate is 0:
// a burst has no rate.
type burstPacer struct{ n uint64 }

// Pace implements vegeta.Pacer.
func (p burstPacer) Pace(_ time.Duration, hits uint64) (time.Duration, bool) {
	return 0, hits >= p.n
}

// Rate implements vegeta.Pacer.
func (p burstPacer) Rate(time.Duration) float64 { return 0 }

// Option configures an attack.
type Option func(*attackConfig)

type attackConfig struct {
	remote    bool
	timeout   time.Duration
	maxBody   int64
	name      string
	onResult  func(*vegeta.Result)
	discard   bool
	backoff   Backoff
	goneAfter time.Duration
}

func newAttackConfig(opts []Option) attackConfig {
	c := attackConfig{
		timeout: DefaultTimeout, maxBody: DefaultMaxBody,
		backoff: DefaultBackoff(),
	}
	for _, o := range opts {
		o(&c)
	}
	return c
}

// WithTimeout sets the client timeout of each request: the time from sending
// it to reading the whole answer. It must cover the wait in the server's queue.
func WithTimeout(d time.Duration) Option {
	return func(c *attackConfig) {
		if d > 0 {
			c.timeout = d
		}
	}
}

// WithMaxBody sets how many bytes of each response body a result keeps (the
// rest is read and dropped). A negative value keeps everything.
func WithMaxBody(n int64) Option {
	return func(c *attackConfig) { c.maxBody = n }
}

// WithName sets the attack name stored in every result (vegeta's Attack field
// and X-Vegeta-Attack header).
func WithName(name string) Option {
	return func(c *attackConfig) { c.name = name }
}

// WithRemote lets the attack fire at a target that is not loopback: another
// machine, on purpose.
func WithRemote() Option {
	return func(c *attackConfig) { c.remote = true }
}

// WithOnResult sets a function called for each result as it arrives, from the
// attack's collecting goroutine (one call at a time).
func WithOnResult(f func(*vegeta.Result)) Option {
	return func(c *attackConfig) { c.onResult = f }
}

// WithoutResults makes the attack keep no results: each goes only to the
// WithOnResult function as it comes (a Recorder streams it to its file and
// an Accumulator counts it), and the attack returns none, so its memory
// stays bounded whatever its length and error rate.
func WithoutResults() Option {
	return func(c *attackConfig) { c.discard = true }
}

// CheckLoopback returns an error unless rawURL is an http(s) URL whose host is
// a loopback address (127.0.0.0/8 or ::1) or "localhost". The load driver
// fires at another machine only when told to (CheckTarget with remote).
func CheckLoopback(rawURL string) error { return CheckTarget(rawURL, false) }

// CheckTarget returns an error unless rawURL is an http(s) URL with a host,
// and, unless remote is set, a loopback one (see CheckLoopback).
func CheckTarget(rawURL string, remote bool) error {
	u, err := url.Parse(rawURL)
	if err != nil {
		return fmt.Errorf("target URL %q: %w", rawURL, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("target URL %q: scheme must be http or https", rawURL)
	}
	host := u.Hostname()
	if host == "" {
		return fmt.Errorf("target URL %q: no host", rawURL)
	}
	if remote || strings.EqualFold(host, "localhost") {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("target URL %q: host %q is not a loopback address (only 127.0.0.0/8, ::1 and localhost are allowed without the remote opt-in)", rawURL, host)
	}
	return nil
}

// Burst sends n copies of tgt at once, each on its own connection, and returns
// the n results sorted by send time. Non-2xx answers and connection errors are
// results, not errors; the error is for bad input and cancellation (then the
// results gathered so far are returned with an error wrapping ctx's cause,
// see StoppedReason).
func Burst(ctx context.Context, tgt vegeta.Target, n int, opts ...Option) (vegeta.Results, error) {
	if n <= 0 {
		return nil, fmt.Errorf("burst of %d requests: need at least 1", n)
	}
	cfg := newAttackConfig(opts)
	cfg.goneAfter = 0 // n attempts at most: a burst cannot run away
	return attack(ctx, tgt, volley{
		what: "attack", pacer: burstPacer{n: uint64(n)},
		workers: uint64(n), maxWorkers: uint64(n), client: NewClient,
	}, cfg)
}

// Sustain sends tgt at a constant rate of rate requests per second for d
// (vegeta's constant pacer: requests are due on a fixed schedule whatever the
// answers, which avoids coordinated omission), and returns the results sorted
// by send time. With WithGoneAfter, when every result for that long is a
// connection error, it ends early with ErrServerGone; cancelling ctx stops
// it at once (see Burst).
func Sustain(ctx context.Context, tgt vegeta.Target, rate int, d time.Duration, opts ...Option) (vegeta.Results, error) {
	if rate <= 0 {
		return nil, fmt.Errorf("sustained attack at %d requests/s: rate must be positive", rate)
	}
	if d <= 0 {
		return nil, fmt.Errorf("sustained attack for %s: duration must be positive", d)
	}
	cfg := newAttackConfig(opts)
	return attack(ctx, tgt, volley{
		what: "attack", pacer: vegeta.ConstantPacer{Freq: rate, Per: time.Second}, duration: d,
		workers: vegeta.DefaultWorkers, maxWorkers: maxSustainWorkers, client: NewClient,
	}, cfg)
}

// prepare checks tgt and ctx before an attack and fills tgt's method.
func prepare(ctx context.Context, tgt *vegeta.Target, cfg attackConfig) error {
	if err := CheckTarget(tgt.URL, cfg.remote); err != nil {
		return err
	}
	if tgt.Method == "" {
		tgt.Method = http.MethodPost
	}
	return ctx.Err()
}

// volley is how one vegeta attack fires: its pacer, its duration (0: until
// the pacer stops), its workers and its HTTP client, made from the attack's
// own context so that stopping the attack aborts the requests in flight.
// what names the attack in its error ("attack", "open-model attack").
type volley struct {
	what                string
	pacer               vegeta.Pacer
	duration            time.Duration
	workers, maxWorkers uint64
	client              func(ctx context.Context, timeout time.Duration) *http.Client
}

// attack is the loop of every attack on vegeta (Burst, Sustain, OpenAttack):
// it hands each result to cfg's onResult as it comes, keeps it unless
// cfg.discard, ends the run as ErrServerGone when cfg's gone watch says so,
// and stops at once when ctx ends, returning the results so far with an
// error wrapping ctx's cause.
func attack(ctx context.Context, tgt vegeta.Target, v volley, cfg attackConfig) (vegeta.Results, error) {
	if err := prepare(ctx, &tgt, cfg); err != nil {
		return nil, err
	}

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	atk := vegeta.NewAttacker(
		vegeta.Client(v.client(ctx, cfg.timeout)),
		vegeta.Workers(min(v.workers, v.maxWorkers)),
		vegeta.MaxWorkers(v.maxWorkers),
		vegeta.MaxBody(cfg.maxBody),
		vegeta.Redirects(vegeta.NoFollow),
	)
	defer context.AfterFunc(ctx, func() { atk.Stop() })()

	var (
		rs    vegeta.Results
		n     int
		watch = newGoneWatch(1, cfg.goneAfter)
	)
	for r := range atk.Attack(vegeta.NewStaticTargeter(tgt), v.pacer, v.duration, cfg.name) {
		n++
		if !cfg.discard {
			rs.Add(r)
		}
		if cfg.onResult != nil {
			cfg.onResult(r)
		}
		// One client: the run's requests together. Fresh connections have
		// no client of their own, so the server is gone when, for the
		// gone-after time, attempts were refused and none was answered.
		if watch.saw(0, r.Code == 0 && IsConnError(r.Error), r.Code != 0, time.Now()) {
			cancel(goneError(hostOf(tgt.URL), cfg.goneAfter))
		}
	}
	rs.Close()
	if ctx.Err() != nil {
		return rs, fmt.Errorf("%s on %s stopped after %d results: %w", v.what, tgt.URL, n, cancelCause(ctx))
	}
	return rs, nil
}

// hostOf returns the host:port of rawURL, or rawURL when it does not parse.
func hostOf(rawURL string) string {
	if u, err := url.Parse(rawURL); err == nil && u.Host != "" {
		return u.Host
	}
	return rawURL
}

// NewClient returns the HTTP client of an attack. It is what
// vegeta.KeepAlive(false) and vegeta.Timeout(timeout) make of vegeta's own
// client (no keep-alive, so every request opens its own connection and a
// reuseport cluster sees each request as a fresh connection), plus one thing
// vegeta's options cannot give: every request carries ctx, so cancelling the
// attack also aborts the requests in flight instead of waiting out the
// timeout.
func NewClient(ctx context.Context, timeout time.Duration) *http.Client {
	dialer := &net.Dialer{KeepAlive: -1, Timeout: 30 * time.Second}
	tr := &http.Transport{
		DialContext:         dialer.DialContext,
		DisableKeepAlives:   true,
		DisableCompression:  true,
		MaxIdleConnsPerHost: vegeta.DefaultConnections,
	}
	return &http.Client{
		Timeout:   timeout,
		Transport: ctxTransport{ctx: ctx, base: tr},
	}
}

// ctxTransport attaches a context to every request it carries.
type ctxTransport struct {
	ctx  context.Context
	base http.RoundTripper
}

// RoundTrip implements http.RoundTripper.
func (t ctxTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	return t.base.RoundTrip(req.WithContext(t.ctx))
}
