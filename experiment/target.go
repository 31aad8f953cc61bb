package experiment

import (
	"net/http"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/flipbench/flipbench/contract"
	"github.com/flipbench/flipbench/trial"
)

// The requests the experiments fire at a trial's server.

// FlipTarget is POST /flip at srv: a request that carries a job.
func FlipTarget(srv *trial.Server) vegeta.Target {
	return vegeta.Target{Method: http.MethodPost, URL: srv.URL(contract.PathFlip)}
}

// HelloTarget is GET / at srv, answered with the pid: a request that
// carries no work.
func HelloTarget(srv *trial.Server) vegeta.Target {
	return vegeta.Target{Method: http.MethodGet, URL: srv.URL(contract.PathPID)}
}
