package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/flipbench/flipbench/loadtest"
)

// The article's Artillery load (artillery.yaml: one phase, arrivalRate 20
// for duration 30, POST /flip, each virtual user on its own connection) and
// Artillery's default request timeout.
const (
	articleRate     = 20
	articleDuration = 30 * time.Second
	articleTimeout  = 10 * time.Second
)

// openFlags are attack's open-model flags; rate and duration are attack's
// own -rate and -duration, which the open model reads too.
type openFlags struct {
	arrivals  *string
	seed      *uint64
	keepAlive *bool
	article   *bool
	rate      *int
	duration  *time.Duration
	schedule  loadtest.Schedule // made by check
}

// addOpenFlags registers the open-model flags on attack's fs.
func addOpenFlags(fs *flag.FlagSet, rate *int, duration *time.Duration) *openFlags {
	return &openFlags{
		arrivals:  fs.String("arrivals", "", "open model: arrivals at -rate per second for -duration, `kind` constant (Artillery's arrivalRate) or poisson (seeded exponential gaps); latency is counted from each scheduled send"),
		seed:      fs.Uint64("seed", 0, "seed of -arrivals poisson (0: a fresh one, printed and recorded)"),
		keepAlive: fs.Bool("keep-alive", false, "open model: send on a pool of kept-alive connections instead of a fresh connection per arrival"),
		article:   fs.Bool("article", false, fmt.Sprintf("the article's Artillery load: -arrivals constant -rate %d -duration %s, fresh connections, -timeout %s unless given", articleRate, articleDuration, articleTimeout)),
		rate:      rate,
		duration:  duration,
	}
}

// on reports whether the command line asks for the open model.
func (o *openFlags) on(set map[string]bool) bool { return set["arrivals"] || set["article"] }

// check refuses an open-model command line no run can use, and makes its
// schedule, before anything starts.
func (o *openFlags) check(set map[string]bool) error {
	switch {
	case !o.on(set) && (set["seed"] || set["keep-alive"]):
		return usagef("-seed and -keep-alive are for the open model (-arrivals or -article)")
	case !o.on(set):
		return nil
	case set["article"] && (set["arrivals"] || set["rate"] || set["duration"] || set["seed"] || set["keep-alive"]):
		return usagef("-article is the article's load as it was: it excludes -arrivals, -rate, -duration, -seed and -keep-alive")
	case set["n"] || set["clients"] || set["requests"]:
		return usagef("the open model (-arrivals, -article) excludes -n, -clients and -requests")
	case set["arrivals"] && !set["rate"]:
		return usagef("-arrivals needs -rate, arrivals per second")
	case set["arrivals"] && !set["duration"]:
		return usagef("-arrivals needs -duration, e.g. -duration 30s")
	}
	kind, rate, d := *o.arrivals, float64(*o.rate), *o.duration
	if *o.article {
		kind, rate, d = loadtest.ArrivalsConstant, articleRate, articleDuration
	}
	seed := *o.seed
	if kind == loadtest.ArrivalsPoisson && seed == 0 {
		seed = rand.Uint64()
	}
	s, err := loadtest.NewSchedule(kind, rate, d, seed)
	if err != nil {
		return usagef("%v", err)
	}
	o.schedule = s
	return nil
}

// openRun is what runOpen needs of attack's other flags.
type openRun struct {
	params  loadtest.OpenParams
	out     string
	format  string
	timeout bool // -timeout was given
}

// run runs the open-model load of o at tgt, streams its results into r.out
// (when set) and prints the report.
func (o *openFlags) run(ctx context.Context, stdout, stderr io.Writer, tgt vegeta.Target, r openRun, opts []loadtest.Option) error {
	if *o.article && !r.timeout {
		r.params.Timeout = articleTimeout
		opts = append(opts, loadtest.WithTimeout(articleTimeout))
	}
	load := loadtest.Open{Schedule: o.schedule, KeepAlive: *o.keepAlive}
	name := load.Schedule.Name()
	conns := "a fresh connection per arrival"
	if load.KeepAlive {
		conns = "a kept-alive pool"
	}
	rec, err := loadtest.NewRecorder(r.out, name)
	if err != nil {
		return err
	}
	acc := loadtest.NewOpenAccumulator(load, r.params)
	fmt.Fprintf(stderr, "attack: %s (%d arrivals), %s, at %s (timeout %s)\n", load.Schedule, len(load.Schedule.Offsets), conns, tgt.URL, r.params.Timeout)
	run, err := loadtest.OpenAttack(ctx, tgt, load, append(opts, loadtest.WithName(name), loadtest.WithoutResults(),
		loadtest.WithOnResult(func(res *vegeta.Result) { rec.Add(res); acc.Add(res) }))...)
	m, merr := acc.Close(run.Began)
	m.Stopped = loadtest.StoppedReason(err)
	if werr := rec.Close(m); merr != nil || werr != nil {
		return errors.Join(err, merr, werr)
	}
	if m.Behind {
		fmt.Fprintf(stderr, "attack: the driver fell behind its schedule: a send left %s late (bound %s), so the server saw other arrivals than the schedule's\n", m.Lag.Max, m.LagBound)
	}
	if r.out != "" {
		fmt.Fprintf(stderr, "attack: wrote %s/%s.{bin,txt,json,hdr.txt,metrics.json}\n", r.out, name)
	}
	if r.format == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return errors.Join(err, enc.Encode(m))
	}
	if rerr := vegeta.NewTextReporter(rec.Vegeta()).Report(stdout); rerr != nil {
		return errors.Join(err, rerr)
	}
	printOpen(stdout, m)
	return err
}

// printOpen prints an open-model run's metrics for people.
func printOpen(w io.Writer, m loadtest.OpenMetrics) {
	conns := "fresh connections"
	if m.KeepAlive {
		conns = "a kept-alive pool"
	}
	fmt.Fprintf(w, "\nflipbench open-model metrics (%s, %s; latency from each request's scheduled send time)\n", m.Schedule, conns)
	fmt.Fprintf(w, "  offered        %.2f arrivals/s, %d scheduled, %d sent\n", m.OfferedRate, m.Scheduled, m.Requests)
	fmt.Fprintf(w, "  answers        %d ok, goodput %.2f/s; %d shed (503), %d failed; status codes %s\n",
		m.Successes, m.Goodput, m.Shed, m.Failed, loadtest.FormatCounts(m.StatusCodes))
	fmt.Fprintf(w, "  latency        p50 %s, p90 %s, p99 %s, max %s\n", m.Latency.Median, m.Latency.P90, m.Latency.P99, m.Latency.Max)
	fmt.Fprintf(w, "  from send      p50 %s, p99 %s (vegeta's count, which a late send shortens)\n", m.LatencyFromSend.Median, m.LatencyFromSend.P99)
	if m.QueueTime.Count > 0 {
		fmt.Fprintf(w, "  server queue   median %s, p99 %s, max %s\n", m.QueueTime.Median, m.QueueTime.P99, m.QueueTime.Max)
	}
	behind := "kept"
	if m.Behind {
		behind = "BEHIND: the server saw other arrivals than the schedule's"
	}
	fmt.Fprintf(w, "  send lag       p50 %s, p99 %s, max %s (bound %s): %s\n", m.Lag.Median, m.Lag.P99, m.Lag.Max, m.LagBound, behind)
	if m.Ideal.Count > 0 {
		floor := ""
		if m.Failed > 0 {
			floor = " (floors: a failed request counts its time to failure)"
		}
		fmt.Fprintf(w, "  ideal          p50 %s, p99 %s (FIFO, capacity %d, S %s); measured over ideal: p50 %.2f, p99 %.2f%s\n",
			m.Ideal.Median, m.Ideal.P99, m.Capacity, m.S, m.P50Ratio, m.P99Ratio, floor)
	}
	if len(m.Workers) > 0 {
		fmt.Fprintf(w, "  per worker     %s\n", loadtest.FormatCounts(m.Workers))
	}
	fmt.Fprintf(w, "  client timeout %s\n", m.Timeout)
	if m.Stopped != "" {
		fmt.Fprintf(w, "  stopped        %s, after %d of %d arrivals\n", m.Stopped, m.Requests, m.Scheduled)
	}
}
