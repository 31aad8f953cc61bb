package runfolder

import (
	"reflect"
	"strings"
	"testing"
)

// Captured from artillery.js at 5/s for 2 s (timeout 1 s) against a server
// that answers 200, 200, 200, 503 and then nothing, by arrival; and against
// a port where nothing listened; and at the article's load (20/s for 30 s)
// against bin/standard on the 1 MP photo, on a machine loaded by others.
const (
	artilleryMixed    = `{"tool":"artillery","version":"1.7.9","url":"http://127.0.0.1:18777/flip","rate":5,"duration_seconds":2,"timeout_seconds":1,"requests":10,"answers":6,"codes":{"200":6,"503":2},"errors":{"ETIMEDOUT":2},"throughput":3,"rps_mean":3.05,"p50_ms":21,"p95_ms":66,"p99_ms":66,"max_ms":66}`
	artilleryRefused  = `{"tool":"artillery","version":"1.7.9","url":"http://127.0.0.1:18778/flip","rate":5,"duration_seconds":1,"timeout_seconds":1,"requests":5,"answers":0,"codes":{},"errors":{"ECONNREFUSED":5},"throughput":0,"rps_mean":3.88,"p50_ms":null,"p95_ms":null,"p99_ms":null,"max_ms":null}`
	artilleryStandard = `{"tool":"artillery","version":"1.7.9","url":"http://127.0.0.1:41459/flip","rate":20,"duration_seconds":30,"timeout_seconds":10,"requests":600,"answers":52,"codes":{"200":52},"errors":{"ETIMEDOUT":548},"throughput":1.7333333333333334,"rps_mean":15,"p50_ms":3839,"p95_ms":9947.9,"p99_ms":9982.9,"max_ms":9983}`
)

func TestDecodeArtillery(t *testing.T) {
	a, err := DecodeArtillery([]byte(artilleryMixed))
	if err != nil {
		t.Fatal(err)
	}
	want := Artillery{
		Tool: "artillery", Version: "1.7.9", URL: "http://127.0.0.1:18777/flip",
		Rate: 5, Seconds: 2, Timeout: 1, Requests: 10, Answers: 6,
		Codes: map[string]int{"200": 6, "503": 2}, Errors: map[string]int{"ETIMEDOUT": 2},
		Throughput: 3, RPSMean: 3.05, P50: 21, P95: 66, P99: 66, Max: 66,
	}
	if !reflect.DeepEqual(*a, want) {
		t.Errorf("decoded\n%+v, want\n%+v", *a, want)
	}
	if a.Non2xx() != 2 || a.Unanswered() != 2 {
		t.Errorf("non-2xx %d, unanswered %d, want 2 and 2", a.Non2xx(), a.Unanswered())
	}
	if sum := a.Answers + a.Non2xx() + a.Unanswered(); sum != a.Requests {
		t.Errorf("outcomes add up to %d, want the %d requests", sum, a.Requests)
	}
}

func TestDecodeArtilleryOverloaded(t *testing.T) {
	a, err := DecodeArtillery([]byte(artilleryStandard))
	if err != nil {
		t.Fatal(err)
	}
	if a.Requests != 600 || a.Answers != 52 || a.Unanswered() != 548 || a.Non2xx() != 0 {
		t.Errorf("outcomes %+v, want 52 answered and 548 timed out of 600", *a)
	}
	if a.P95 != 9947.9 || a.P99 != 9982.9 || a.Max != 9983 || a.Rate != 20 || a.Seconds != 30 {
		t.Errorf("figures %+v", *a)
	}
}

func TestDecodeArtilleryNothingAnswered(t *testing.T) {
	a, err := DecodeArtillery([]byte(artilleryRefused))
	if err != nil {
		t.Fatal(err)
	}
	if a.Answers != 0 || a.Non2xx() != 0 || a.Unanswered() != 5 || a.Errors["ECONNREFUSED"] != 5 {
		t.Errorf("decoded %+v, want 5 refused", *a)
	}
	if a.P50 != 0 || a.P99 != 0 || a.Max != 0 {
		t.Errorf("latency of no answer: p50 %g, p99 %g, max %g, want 0", a.P50, a.P99, a.Max)
	}
}

func TestDecodeArtilleryRefusesOthers(t *testing.T) {
	for _, in := range []string{`{"tool":"autocannon","answers":3}`, `{}`, `not json`} {
		if _, err := DecodeArtillery([]byte(in)); err == nil || !strings.HasPrefix(err.Error(), "artillery output: ") {
			t.Errorf("%s: err = %v, want an artillery output error", in, err)
		}
	}
}
