package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"

	"github.com/flipbench/flipbench/contract"
	"github.com/flipbench/flipbench/internal/access"
	"github.com/flipbench/flipbench/internal/monitor"
	"github.com/flipbench/flipbench/internal/procfs"
	"github.com/flipbench/flipbench/prefork"
)

// adminToken is the flag naming the file of the admin address's bearer token.
type adminToken struct{ file string }

// registerAdminFlags adds -admin-token-file to fs.
func registerAdminFlags(fs *flag.FlagSet) *adminToken {
	a := &adminToken{}
	fs.StringVar(&a.file, contract.FlagAdminTokenFile, "", "`file` holding the bearer token every -"+contract.FlagAdmin+" route asks for (or set $"+
		contract.EnvAdminToken+"); required when -"+contract.FlagAdmin+" is beyond loopback; at least 16 characters")
	return a
}

// resolve is the admin address's token ("" for none). The address shows
// heap and goroutine dumps, so beyond loopback it is refused without one.
func (a *adminToken) resolve(addr string) (string, error) {
	if addr == "" {
		if a.file != "" {
			return "", fmt.Errorf("-%s without -%s: there is no admin address to protect", contract.FlagAdminTokenFile, contract.FlagAdmin)
		}
		return "", nil
	}
	token, err := access.Secret(a.file, contract.EnvAdminToken)
	if err != nil {
		return "", fmt.Errorf("-%s: %w", contract.FlagAdminTokenFile, err)
	}
	if token == "" && !access.Loopback(addr) {
		return "", fmt.Errorf("-%s %s is reachable beyond loopback and would show pprof dumps to anyone: give a token with -%s FILE or $%s, or listen on 127.0.0.1",
			contract.FlagAdmin, addr, contract.FlagAdminTokenFile, contract.EnvAdminToken)
	}
	if token != "" && len(token) < 16 {
		return "", fmt.Errorf("-%s: %w", contract.FlagAdminTokenFile, access.ErrWeakToken)
	}
	return token, nil
}

// serveAdmin serves the master's monitoring handler on addr until ctx is
// done or the returned stop is called; with a token, every route asks for
// it. It listens before it returns, so a taken address fails the start.
func serveAdmin(ctx context.Context, addr, token string, m *prefork.Master, log *slog.Logger) (stop func(), err error) {
	h := scaleHandler(m, monitor.Admin(workersView(m), m.Totals))
	if token != "" {
		if h, err = access.Bearer(token, h); err != nil {
			return nil, fmt.Errorf("admin: %w", err)
		}
	}
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("admin listen: %w", err)
	}
	log.Info("admin serving", "admin_addr", ln.Addr().String(), "token", token != "")
	if !access.Loopback(addr) {
		log.Warn("the admin address is plain HTTP: its token crosses the network in clear text; reach it through an SSH tunnel or a TLS proxy", "admin_addr", addr)
	}
	return monitor.Serve(ln, h, log), nil
}

// workersView is m's workers with each one's RSS, read from /proc.
func workersView(m *prefork.Master) monitor.View {
	return func(ctx context.Context) ([]contract.WorkerStatus, error) {
		infos, err := m.Workers(ctx)
		if err != nil {
			return nil, err
		}
		out := make([]contract.WorkerStatus, 0, len(infos))
		for _, w := range infos {
			out = append(out, contract.WorkerStatus{
				Worker: w.Index, PID: w.PID, State: w.State, Started: w.Started,
				Restarts: w.Restarts, RSSBytes: procfs.RSS(w.PID),
				Done: w.Stats.Done, Failed: w.Stats.Failed,
				InFlight: w.Stats.InFlight, Queued: w.Stats.Queued, StatsAt: w.StatsAt,
			})
		}
		return out, nil
	}
}
