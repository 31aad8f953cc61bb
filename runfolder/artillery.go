package runfolder

import (
	"encoding/json"
	"fmt"
	"strconv"
)

// FileArtillery holds, in a mode's cross-check folder, what Artillery saw.
const FileArtillery = "artillery.json"

// ArtilleryTool is the tool name artillery.js prints.
const ArtilleryTool = "artillery"

// Artillery is what the Node app's artillery.js prints: Artillery's own
// figures for one phase of the article's artillery.yaml shape, Rate
// arrivals per second for Seconds, each a virtual user sending one POST on
// a connection of its own.
//
// Every request ends in Codes (an answer, by status) or in Errors (none, by
// Artillery's error code: ETIMEDOUT after Timeout, ECONNREFUSED...).
// Latencies are Artillery's, from send to answer over the answered requests
// only (a timed-out request is not in them); 0 when none was answered.
type Artillery struct {
	Tool    string  `json:"tool"`
	Version string  `json:"version"`
	URL     string  `json:"url"`
	Rate    float64 `json:"rate"`
	Seconds float64 `json:"duration_seconds"`
	Timeout float64 `json:"timeout_seconds"`
	// Requests counts the virtual users Artillery started, one request each.
	Requests int            `json:"requests"`
	Answers  int            `json:"answers"` // 2xx answers
	Codes    map[string]int `json:"codes"`
	Errors   map[string]int `json:"errors"`
	// Throughput is 2xx answers per second of the phase; RPSMean is
	// Artillery's own mean rate of requests, whatever their outcome.
	Throughput float64 `json:"throughput"`
	RPSMean    float64 `json:"rps_mean"`
	P50        float64 `json:"p50_ms"`
	P95        float64 `json:"p95_ms"`
	P99        float64 `json:"p99_ms"`
	Max        float64 `json:"max_ms"`
}

// DecodeArtillery reads artillery.js's JSON object.
func DecodeArtillery(data []byte) (*Artillery, error) {
	var a Artillery
	if err := json.Unmarshal(data, &a); err != nil {
		return nil, fmt.Errorf("artillery output: %w", err)
	}
	if a.Tool != ArtilleryTool {
		return nil, fmt.Errorf("artillery output: tool %q, want %q", a.Tool, ArtilleryTool)
	}
	return &a, nil
}

// Non2xx counts the answers whose status is not 2xx (503s: shed).
func (a *Artillery) Non2xx() int {
	n := 0
	for code, c := range a.Codes {
		if s, err := strconv.Atoi(code); err != nil || s < 200 || s > 299 {
			n += c
		}
	}
	return n
}

// Unanswered counts the requests that got no answer at all.
func (a *Artillery) Unanswered() int {
	n := 0
	for _, c := range a.Errors {
		n += c
	}
	return n
}
