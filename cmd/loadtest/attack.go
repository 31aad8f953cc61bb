package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/flipbench/flipbench/loadtest"
)

func attackCmd(stdout, stderr io.Writer) command {
	fs := newFlagSet("attack", `Usage: loadtest attack [flags]

Fires one burst of -n POSTs at -url, all sent at the same instant, each on its
own connection, and waits for every answer. With -rate, sends -rate requests per
second for -duration instead (vegeta's constant pacer: an open model, requests
are due on schedule whatever the answers). Only loopback URLs (127.0.0.0/8, ::1,
localhost) are allowed unless -remote says the target is another machine on
purpose. With -clients C, runs C keep-alive clients instead, the load shape
autocannon and wrk make: each client sends its requests back to back on one
persistent connection (the next when the last answer came), for -duration or
-requests per client; it reports per client answers, errors and latency, the
fairness (fewest answers of a client / most) and the clients starved (none).
A keep-alive client whose connection is refused or reset waits before it
reconnects (10 ms doubling to 1 s, with jitter), and a run with -rate,
-arrivals or -clients against a server that is gone (only refused or reset
connections for -gone-after) ends early with "server gone".
With -arrivals constant|poisson, runs an open model at -rate for -duration
(each arrival on a fresh connection, latency from its scheduled send time,
the FIFO ideal beside it given -capacity and -calibration); -article is the
article's Artillery load (20 arrivals/s for 30 s).
To load one server from several hosts, run attack with -out on each and merge
the .bin files with loadtest report.

Prints vegeta's text report and our metrics (first/median/p90/p99/last latency,
makespan, throughput, server queue and job time, per-worker counts); with -out,
also writes the raw results (.bin, as they come) and every report into that
folder. No result is held in memory, however long the run.`, stderr)
	var (
		url         = fs.String("url", "http://127.0.0.1:3000/flip", "target `URL` (loopback only, unless -remote)")
		remote      = fs.Bool("remote", false, "allow a target that is not loopback: you are about to load another machine")
		n           = fs.Int("n", 10, "burst size: requests sent at once")
		rate        = fs.Int("rate", 0, "sustained mode: requests per second (instead of -n)")
		duration    = fs.Duration("duration", 0, "how long to send at -rate, or how long the -clients send, e.g. 30s")
		clients     = fs.Int("clients", 0, "keep-alive mode: `C` clients, each sending back to back on one persistent connection (instead of -n)")
		requests    = fs.Int("requests", 0, "keep-alive mode: requests each of the -clients sends (instead of -duration; a client never answered waits out -timeout)")
		method      = fs.String("method", http.MethodPost, "HTTP method")
		bodyFile    = fs.String("body", "", "`file` to send as the request body (e.g. an image); none by default")
		contentType = fs.String("content-type", "", "Content-Type header for -body (e.g. image/jpeg)")
		timeout     = fs.Duration("timeout", loadtest.DefaultTimeout, "client timeout per request; must cover the wait in the server's queue")
		capacity    = fs.Int("capacity", 0, "jobs the server runs at once, for the ideal makespan and efficiency (0: not computed)")
		s           = fs.Duration("calibration", 0, "time of one job (S), for the ideal makespan and efficiency (0: not computed)")
		out         = fs.String("out", "", "`folder` to write the results and reports into (none by default)")
		format      = fs.String("format", "text", "what to print: text (vegeta's report and ours) or json (our metrics)")
		goneAfter   = fs.Duration("gone-after", loadtest.DefaultGoneAfter, "end a -rate, -arrivals or -clients run when nothing but refused or reset connections came for this long (0: never)")
	)
	opn := addOpenFlags(fs, rate, duration)
	return command{fs: fs, run: func(ctx context.Context, args []string) error {
		set := setFlags(fs)
		if err := opn.check(set); err != nil {
			return err
		}
		switch {
		case len(args) > 0:
			return usagef("unexpected arguments %q", args)
		case set["rate"] && set["n"]:
			return usagef("-n and -rate exclude each other: a burst or a sustained rate")
		case set["clients"] && (set["n"] || set["rate"]):
			return usagef("-clients excludes -n and -rate: keep-alive clients, a burst or a sustained rate")
		case set["duration"] && !set["rate"] && !set["clients"]:
			return usagef("-duration needs -rate or -clients")
		case set["requests"] && !set["clients"]:
			return usagef("-requests needs -clients")
		case set["clients"]:
			l := loadtest.Closed{Clients: *clients, Duration: *duration, Requests: *requests}
			if err := l.Validate(); err != nil {
				return usagef("-clients: %v (give -duration or -requests)", err)
			}
		case *rate < 0:
			return usagef("-rate %d: must be positive", *rate)
		case set["rate"] && *rate == 0:
			return usagef("-rate 0: must be positive")
		case set["rate"] && *duration <= 0:
			return usagef("-rate needs a positive -duration, e.g. -duration 30s")
		case set["rate"] && *duration < time.Second/time.Duration(*rate):
			return usagef("-duration %s is shorter than one arrival at -rate %d (one every %s)", *duration, *rate, time.Second/time.Duration(*rate))
		case !set["rate"] && (*n < 1 || *n > loadtest.MaxLevel):
			return usagef("-n %d: must be between 1 and %d", *n, loadtest.MaxLevel)
		case *timeout <= 0:
			return usagef("-timeout %s: must be positive", *timeout)
		case *capacity < 0 || *s < 0:
			return usagef("-capacity and -calibration cannot be negative")
		case *format != "text" && *format != "json":
			return usagef("-format %q: want text or json", *format)
		}
		if *goneAfter < 0 {
			return usagef("-gone-after %s: cannot be negative", *goneAfter)
		}
		if err := loadtest.CheckTarget(*url, *remote); err != nil {
			return usageError{err}
		}
		opts := []loadtest.Option{loadtest.WithTimeout(*timeout), loadtest.WithGoneAfter(*goneAfter)}
		if *remote {
			opts = append(opts, loadtest.WithRemote())
		}
		tgt := vegeta.Target{Method: strings.ToUpper(*method), URL: *url, Header: http.Header{}}
		if *bodyFile != "" {
			b, err := os.ReadFile(*bodyFile)
			if err != nil {
				return fmt.Errorf("request body: %w", err)
			}
			tgt.Body = b
		}
		if *contentType != "" {
			tgt.Header.Set("Content-Type", *contentType)
		}

		if opn.on(set) {
			p := loadtest.OpenParams{Capacity: *capacity, S: *s, Timeout: *timeout}
			return opn.run(ctx, stdout, stderr, tgt, openRun{params: p, out: *out, format: *format, timeout: set["timeout"]}, opts)
		}
		if set["clients"] {
			l := loadtest.Closed{Clients: *clients, Duration: *duration, Requests: *requests}
			return keepAlive(ctx, stdout, stderr, tgt, l, *out, *format, opts)
		}
		name := loadtest.BurstName(*n)
		if set["rate"] {
			name = fmt.Sprintf("rate-%d-for-%s", *rate, *duration)
		}
		rec, err := loadtest.NewRecorder(*out, name)
		if err != nil {
			return err
		}
		acc := loadtest.NewAccumulator(loadtest.Params{Capacity: *capacity, Timeout: *timeout})
		opts = append(opts, loadtest.WithName(name), loadtest.WithoutResults(),
			loadtest.WithOnResult(func(r *vegeta.Result) { rec.Add(r); acc.Add(r) }))
		if set["rate"] {
			fmt.Fprintf(stderr, "attack: %d requests/s for %s at %s (timeout %s)\n", *rate, *duration, *url, *timeout)
			_, err = loadtest.Sustain(ctx, tgt, *rate, *duration, opts...)
		} else {
			fmt.Fprintf(stderr, "attack: burst of %d at %s (timeout %s)\n", *n, *url, *timeout)
			_, err = loadtest.Burst(ctx, tgt, *n, opts...)
		}
		m := acc.Close()
		if !set["rate"] {
			m.Level = *n
		}
		m.Stopped = loadtest.StoppedReason(err)
		if werr := rec.Close(m); werr != nil {
			return errors.Join(err, werr)
		}
		if *out != "" {
			fmt.Fprintf(stderr, "attack: wrote %s/%s.{bin,txt,json,hdr.txt,metrics.json}\n", *out, name)
		}
		if perr := printAttack(stdout, *format, rec.Vegeta(), m, *s); perr != nil {
			return errors.Join(err, perr)
		}
		return err
	}}
}

// keepAlive runs the keep-alive clients of l at tgt, streams their results
// into out (when set) and prints the report.
func keepAlive(ctx context.Context, stdout, stderr io.Writer, tgt vegeta.Target, l loadtest.Closed, out, format string, opts []loadtest.Option) error {
	name := loadtest.KeepAliveName(l.Clients)
	rec, err := loadtest.NewRecorder(out, name)
	if err != nil {
		return err
	}
	acc := loadtest.NewKeepAliveAccumulator(l)
	fmt.Fprintf(stderr, "attack: %s at %s\n", l, tgt.URL)
	_, err = loadtest.KeepAlive(ctx, tgt, l, append(opts, loadtest.WithName(name), loadtest.WithoutResults(),
		loadtest.WithOnResult(func(r *vegeta.Result) { rec.Add(r); acc.Add(r) }))...)
	m := acc.Close()
	m.Stopped = loadtest.StoppedReason(err)
	if werr := rec.Close(m); werr != nil {
		return errors.Join(err, werr)
	}
	if out != "" {
		fmt.Fprintf(stderr, "attack: wrote %s/%s.{bin,txt,json,hdr.txt,metrics.json}\n", out, name)
	}
	if format == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return errors.Join(err, enc.Encode(m))
	}
	if rerr := vegeta.NewTextReporter(rec.Vegeta()).Report(stdout); rerr != nil {
		return errors.Join(err, rerr)
	}
	printKeepAlive(stdout, m)
	return err
}

// printKeepAlive prints a keep-alive run's metrics for people.
func printKeepAlive(w io.Writer, m loadtest.KeepAliveMetrics) {
	fmt.Fprintf(w, "\nflipbench keep-alive metrics (%d clients, each on one persistent connection)\n", m.Clients)
	fmt.Fprintf(w, "  answers        %d in %s, %.2f answers/s; %d errors, %d unfinished at the end, status codes %s\n",
		m.Answers, m.Elapsed, m.Throughput, m.Errors, m.Unfinished, loadtest.FormatCounts(m.StatusCode))
	fmt.Fprintf(w, "  latency        p50 %s, p99 %s, max %s (answered requests only)\n", m.Latency.Median, m.Latency.P99, m.Latency.Max)
	fmt.Fprintf(w, "  fairness       %.2f (fewest answers of a client / most: %s), %d of %d clients starved (no answer)\n",
		m.Fairness, m.AnswerRange(), m.Starved, m.Clients)
	if m.Closes > 0 {
		fmt.Fprintf(w, "  reconnects     %d answers closed their connection\n", m.Closes)
	}
	if m.ConnErrors > 0 {
		fmt.Fprintf(w, "  conn errors    %d refused or reset, %d reconnects after a backoff wait\n", m.ConnErrors, m.Reconnects)
	}
	if m.Stopped != "" {
		fmt.Fprintf(w, "  stopped        %s\n", m.Stopped)
	}
	if len(m.Workers) > 0 {
		fmt.Fprintf(w, "  per worker     %s\n", loadtest.FormatCounts(m.Workers))
	}
	fmt.Fprintf(w, "  per client     answers  errors  unfinished  p50        p99\n")
	for _, s := range m.PerClientStats {
		fmt.Fprintf(w, "  %10d     %7d  %6d  %10d  %-9s  %s\n", s.Client, s.Answers, s.Errors, s.Unfinished, s.Latency.Median, s.Latency.P99)
	}
}

// printAttack prints an attack's reports in the chosen format.
func printAttack(w io.Writer, format string, vm *vegeta.Metrics, m loadtest.Metrics, s time.Duration) error {
	if format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(m)
	}
	if err := vegeta.NewTextReporter(vm).Report(w); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nflipbench metrics (latency from send; in a burst every request is sent at the same instant)\n")
	fmt.Fprintf(w, "  answers        %d of %d ok, status codes %s\n", m.Successes, m.Requests, loadtest.FormatCounts(m.StatusCodes))
	fmt.Fprintf(w, "  latency        first %s, median %s, p90 %s, p99 %s, last %s\n",
		m.Latency.Min, m.Latency.Median, m.Latency.P90, m.Latency.P99, m.Latency.Max)
	fmt.Fprintf(w, "  makespan       %s (all sent within %s, first answer after %s), %.2f answers/s\n", m.Makespan, m.SendSpread, m.FirstAnswer, m.Throughput)
	if m.QueueTime.Count > 0 || m.JobTime.Count > 0 {
		fmt.Fprintf(w, "  server queue   median %s, max %s\n", m.QueueTime.Median, m.QueueTime.Max)
		fmt.Fprintf(w, "  server job     median %s, max %s\n", m.JobTime.Median, m.JobTime.Max)
	}
	if len(m.Workers) > 0 {
		fmt.Fprintf(w, "  per worker     %s\n", loadtest.FormatCounts(m.Workers))
	}
	if id := m.IdealIn(s, 0); id.Makespan > 0 {
		fmt.Fprintf(w, "  ideal          %s (capacity %d, S %s), efficiency %.0f%%\n", id.Makespan, m.Capacity, s, 100*id.Efficiency)
	}
	fmt.Fprintf(w, "  slower than    30 s: %.0f%%, 60 s: %.0f%%\n", 100*m.Over30s, 100*m.Over60s)
	fmt.Fprintf(w, "  client timeout %s\n", time.Duration(m.Timeout))
	if m.Stopped != "" {
		fmt.Fprintf(w, "  stopped        %s\n", m.Stopped)
	}
	return nil
}
