// Command loadtest fires exact bursts of concurrent requests at the flipbench
// servers with vegeta, runs the whole standard/threaded/clustered comparison,
// and renders and compares the stored runs.
//
// Usage:
//
//	loadtest attack  [flags]          one burst (or a sustained rate) at a URL
//	loadtest bench   [flags]          every mode, every level, into a run folder
//	loadtest balance [flags]          how connections reach workers, per policy
//	loadtest report  [flags] RUN      re-render a run's summary and plots
//	loadtest report  [flags] F.bin..  merge the results of several load hosts
//	loadtest compare [flags] A B      two runs side by side with ratios
//	loadtest crosscheck [flags]       autocannon beside our keep-alive clients, per mode
//
// Run "loadtest COMMAND -h" for a command's flags.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Exit codes.
const (
	exitOK          = 0
	exitFailure     = 1
	exitUsage       = 2
	exitInterrupted = 130
)

// command is one subcommand: its flags and what it does with them.
type command struct {
	fs  *flag.FlagSet
	run func(ctx context.Context, args []string) error
}

// usageError marks an error in the command line (exit code 2).
type usageError struct{ error }

func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run executes the command line args and returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	commands := map[string]func(io.Writer, io.Writer) command{
		"attack":     attackCmd,
		"bench":      benchCmd,
		"balance":    balanceCmd,
		"report":     reportCmd,
		"compare":    compareCmd,
		"crosscheck": crosscheckCmd,
	}
	if len(args) == 0 {
		mainUsage(stderr)
		return exitUsage
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		mainUsage(stdout)
		return exitOK
	}
	newCmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "loadtest: unknown command %q\n\n", args[0])
		mainUsage(stderr)
		return exitUsage
	}
	cmd := newCmd(stdout, stderr)
	if err := cmd.fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		// The flag package has printed the error and the usage.
		return exitUsage
	}
	err := cmd.run(ctx, cmd.fs.Args())
	var ue usageError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "loadtest %s: %v\n", args[0], err)
		fmt.Fprintf(stderr, "Run 'loadtest %s -h' for help.\n", args[0])
		return exitUsage
	case ctx.Err() != nil:
		fmt.Fprintf(stderr, "loadtest %s: interrupted: %v\n", args[0], err)
		return exitInterrupted
	default:
		fmt.Fprintf(stderr, "loadtest %s: %v\n", args[0], err)
		return exitFailure
	}
}

func mainUsage(w io.Writer) {
	fmt.Fprint(w, `loadtest drives the flipbench servers with vegeta and reports what it saw.

Usage:
  loadtest attack  [flags]        fire one burst of N concurrent POSTs (or a
                                  sustained -rate for -duration, or -clients C
                                  keep-alive clients) at a loopback URL
                                  (another machine only with -remote)
  loadtest bench   [flags]        start each server mode from bin/, fire bursts of
                                  10, 100 and 1000, and write a run folder
                                  (-workload hello: GET / at a stepped-up rate)
  loadtest balance [flags]        per Balance policy, K bursts per size: the
                                  per-worker split and makespan / ideal
  loadtest report  [flags] RUN    recompute a stored run's reports and plots from
                                  its raw results
  loadtest report  [flags] F.bin...
                                  merge the results files of several load hosts
                                  into one attack's report
  loadtest compare [flags] A B    put two runs side by side with ratios B/A
  loadtest crosscheck [flags]     per mode, autocannon and our keep-alive clients
                                  with the same clients, duration and photo

Examples:
  loadtest attack -url http://127.0.0.1:3000/flip -n 10
  loadtest attack -url http://127.0.0.1:3000/flip -clients 10 -duration 10s
  loadtest bench -quick
  loadtest bench -modes standard,threaded -levels 10,100 -out results/mine
  loadtest bench -workload hello -step 2s -out results/hello
  loadtest balance -image testdata/photo-1mp.jpg -runs 20 -sizes 10,20
  loadtest balance -target hello -workers 8 -sizes 100 -out results/balance-hello
  loadtest compare results/reference-2core results/latest
  loadtest crosscheck -clients 10 -duration 10s

Run 'loadtest COMMAND -h' for a command's flags.
`)
}

// newFlagSet returns a flag set that reports errors instead of exiting and
// prints usage (a synopsis, then the flags) to stderr.
func newFlagSet(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "%s\n\nFlags:\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// setFlags returns the flags given on the command line, by name.
func setFlags(fs *flag.FlagSet) map[string]bool {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	return set
}

// flagValues returns every flag's value, by name (for env.json).
func flagValues(fs *flag.FlagSet) map[string]string {
	vals := map[string]string{}
	fs.VisitAll(func(f *flag.Flag) { vals[f.Name] = f.Value.String() })
	return vals
}
