package loadtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// MaxClients is the most keep-alive clients a run accepts: each holds a
// connection and a goroutine.
const MaxClients = 10000

// ErrUnfinished is the error text of a request the run's end cut short: it
// was sent, but the duration ran out before its answer came. It is stored in
// the results so that a client that waited the whole run is still seen.
const ErrUnfinished = "unfinished: the run ended before the answer"

// Closed is a closed-loop keep-alive load, the shape autocannon, wrk and
// browsers behind a proxy make: Clients clients, each on one persistent
// connection, each sending its next request as soon as its last answer
// came. Exactly one of Duration and Requests is set.
type Closed struct {
	Clients int
	// Duration is how long the clients send; requests still waiting at its
	// end are cut and recorded as ErrUnfinished (autocannon drops them).
	Duration time.Duration
	// Requests is how many requests each client sends.
	Requests int
}

// Validate says what is wrong with l, if anything.
func (l Closed) Validate() error {
	switch {
	case l.Clients < 1 || l.Clients > MaxClients:
		return fmt.Errorf("%d keep-alive clients: must be between 1 and %d", l.Clients, MaxClients)
	case (l.Duration > 0) == (l.Requests > 0):
		return errors.New("keep-alive clients need a duration or a request count per client, not both")
	case l.Duration < 0 || l.Requests < 0:
		return errors.New("keep-alive duration and request count cannot be negative")
	}
	return nil
}

// String names the load for people: "10 clients for 5s".
func (l Closed) String() string {
	if l.Requests > 0 {
		return fmt.Sprintf("%d keep-alive clients, %d requests each", l.Clients, l.Requests)
	}
	return fmt.Sprintf("%d keep-alive clients for %s", l.Clients, l.Duration)
}

// KeepAliveName is the base name of the files of a keep-alive run of c clients.
func KeepAliveName(c int) string { return fmt.Sprintf("keepalive-%d", c) }

// clientTag separates the attack name from the client's number in a
// result's Attack field: vegeta's results have no field for the worker that
// sent them, and the Attack field is one that vegeta plot groups by.
const clientTag = "/client-"

// ClientAttack is the Attack field of the results of client i of attack name.
func ClientAttack(name string, i int) string { return name + clientTag + strconv.Itoa(i) }

// ResultClient returns the client number ClientAttack stored in r (0 when
// there is none).
func ResultClient(r *vegeta.Result) int {
	i := strings.LastIndex(r.Attack, clientTag)
	if i < 0 {
		return 0
	}
	n, err := strconv.Atoi(r.Attack[i+len(clientTag):])
	if err != nil {
		return 0
	}
	return n
}

// KeepAlive runs the closed-loop load l against tgt and returns every
// request's result, sorted by send time; ClientAttack in each result's
// Attack field says which client sent it. Each client has its own
// http.Transport holding at most one connection, so a client's requests go
// back to back on one connection (a new one only after the server closed the
// last). Non-2xx answers and connection errors are results, not errors; the
// error is for bad input and cancellation (then with the results so far and
// an error wrapping ctx's cause, see StoppedReason).
//
// A client whose connection is refused or reset waits before it reconnects
// (WithBackoff), so a dead server costs a few attempts a second, not a spin;
// with WithGoneAfter, when every client has seen only such errors for that
// long, the run ends early with ErrServerGone.
//
// vegeta's own closed model (rate 0, a fixed worker count) shares one
// transport among its workers and records no worker in a result, so it can
// say neither which connection a request went on nor which client starved;
// this loop can, and writes vegeta's result type, so every vegeta report
// still reads its files.
func KeepAlive(ctx context.Context, tgt vegeta.Target, l Closed, opts ...Option) (vegeta.Results, error) {
	if err := l.Validate(); err != nil {
		return nil, err
	}
	cfg := newAttackConfig(opts)
	if err := prepare(ctx, &tgt, cfg); err != nil {
		return nil, err
	}

	// run ends at the duration; stop's end (ctx's, or the server gone) is a
	// cancellation.
	stop, cancelStop := context.WithCancelCause(ctx)
	defer cancelStop(nil)
	run, cancel := stop, context.CancelFunc(func() {})
	if l.Duration > 0 {
		run, cancel = context.WithTimeout(stop, l.Duration)
	}
	defer cancel()

	var (
		seq     atomic.Uint64
		n       int // results, under mu
		mu      sync.Mutex
		rs      vegeta.Results
		wg      sync.WaitGroup
		watch   = newGoneWatch(l.Clients, cfg.goneAfter)
		collect = func(r *vegeta.Result) {
			mu.Lock()
			defer mu.Unlock()
			n++
			if !cfg.discard {
				rs = append(rs, *r)
			}
			if cfg.onResult != nil {
				cfg.onResult(r)
			}
		}
	)
	for i := range l.Clients {
		wg.Go(func() {
			c := newKeepAliveClient(cfg.timeout)
			defer c.CloseIdleConnections()
			defer func() { watch.done(i, time.Now()) }()
			fails := 0 // connection errors in a row
			for k := 0; l.Requests == 0 || k < l.Requests; k++ {
				if run.Err() != nil {
					return
				}
				r := hit(run, c, tgt, cfg.maxBody)
				if r.Error != "" && run.Err() != nil {
					if stop.Err() != nil {
						return // cancelled: the request is not the server's failure
					}
					r.Error, r.Code = ErrUnfinished, 0
				}
				r.Attack, r.Seq = ClientAttack(cfg.name, i), seq.Add(1)-1
				collect(&r)
				connErr := r.Code == 0 && IsConnError(r.Error)
				if watch.saw(i, connErr, r.Code != 0, time.Now()) {
					cancelStop(goneError(hostOf(tgt.URL), cfg.goneAfter))
					return
				}
				if !connErr {
					fails = 0
					continue
				}
				// A refused or reset connection: wait before the next, as
				// autocannon and wrk do, rather than spin.
				if !cfg.backoff.sleep(run, fails) {
					return
				}
				fails++
			}
		})
	}
	wg.Wait()
	rs.Close()
	if stop.Err() != nil {
		return rs, fmt.Errorf("keep-alive run on %s stopped after %d results: %w", tgt.URL, n, cancelCause(stop))
	}
	return rs, nil
}

// newKeepAliveClient returns one client's HTTP client: keep-alive on, at most
// one connection, so it behaves as one autocannon connection does.
func newKeepAliveClient(timeout time.Duration) *http.Client {
	dialer := &net.Dialer{Timeout: 30 * time.Second}
	return &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			DialContext:         dialer.DialContext,
			DisableCompression:  true,
			MaxConnsPerHost:     1,
			MaxIdleConnsPerHost: 1,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// hit sends tgt once on c and returns its result as vegeta would record it:
// latency from the send to the end of the body, at most maxBody bytes of the
// body kept (all of it read, so the connection can carry the next request).
func hit(ctx context.Context, c *http.Client, tgt vegeta.Target, maxBody int64) (r vegeta.Result) {
	r = vegeta.Result{Method: tgt.Method, URL: tgt.URL, Timestamp: time.Now()}
	defer func() { r.Latency = time.Since(r.Timestamp) }() // r is named: every return gets it
	req, err := http.NewRequestWithContext(ctx, tgt.Method, tgt.URL, bytes.NewReader(tgt.Body))
	if err != nil {
		r.Error = err.Error()
		return r
	}
	for k, vs := range tgt.Header {
		req.Header[k] = vs
	}
	r.BytesOut = uint64(len(tgt.Body))
	resp, err := c.Do(req)
	if err != nil {
		r.Error = err.Error()
		return r
	}
	defer resp.Body.Close()
	body := io.Reader(resp.Body)
	if maxBody >= 0 {
		body = io.LimitReader(resp.Body, maxBody)
	}
	if r.Body, err = io.ReadAll(body); err == nil {
		_, err = io.Copy(io.Discard, resp.Body)
	}
	r.Code, r.Headers, r.BytesIn = uint16(resp.StatusCode), resp.Header, uint64(len(r.Body))
	if resp.Close {
		// Go's client drops Connection from the header it hands back; keep
		// the server's word that this connection ends here.
		r.Headers = resp.Header.Clone()
		r.Headers.Set("Connection", "close")
	}
	switch {
	case err != nil:
		r.Error = err.Error()
	case r.Code < 200 || r.Code >= 400:
		r.Error = resp.Status
	}
	return r
}
