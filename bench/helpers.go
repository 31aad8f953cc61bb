package bench

import (
	"fmt"

	"github.com/flipbench/flipbench/loadtest"
)

// keepAliveLine is the one-line account of a keep-alive run in the bench log.
func keepAliveLine(mode string, m loadtest.KeepAliveMetrics) string {
	return fmt.Sprintf("%s clients=%d: %d answers in %s, %.2f answers/s, p50 %s, p99 %s, answers per client %s, fairness %.2f, %d starved",
		mode, m.Clients, m.Answers, m.Elapsed, m.Throughput, m.Latency.Median, m.Latency.P99, m.AnswerRange(), m.Fairness, m.Starved)
}

// levelLine is the one-line account of a level in the bench log.
func levelLine(mode string, m loadtest.Metrics) string {
	line := fmt.Sprintf("%s n=%d: %d/%d ok, sent within %s, first %s, median %s, last %s, %.2f req/s",
		mode, m.Level, m.Successes, m.Requests, m.SendSpread, m.FirstAnswer, m.Latency.Median, m.Makespan, m.Throughput)
	if len(m.Workers) > 1 {
		line += ", workers " + m.WorkerSplit()
	}
	if m.Server != nil {
		line += fmt.Sprintf("; p99 client %s, server %s (%d counted)", m.Latency.P99, m.Server.P99, m.Server.Count)
	}
	return line
}
