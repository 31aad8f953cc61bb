package runfolder

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestCrossCheckOldFile reads a cross-check written before the arrivals.
func TestCrossCheckOldFile(t *testing.T) {
	old := `{"clients":10,"duration":"10s","image":"photo-1mp.jpg","rows":[{"mode":"standard",
		"flipbench":{"answers":57,"throughput":5.7,"p50_ms":1686,"p99_ms":2130,"never_answered":0,"per_client":[5,6]}}]}`
	var cc CrossCheck
	if err := json.Unmarshal([]byte(old), &cc); err != nil {
		t.Fatal(err)
	}
	if r := cc.Rows[0]; cc.Arrivals != nil || r.Artillery != nil || r.Open != nil || r.Flipbench.Answers != 57 {
		t.Errorf("old cross-check read as %+v", cc)
	}
}

func TestCrossRowNoteBusy(t *testing.T) {
	r := CrossRow{Mode: "shared"}
	r.NoteBusy(Trial{}, "clients")
	r.NoteBusy(Trial{Noise: &Noise{OtherCores: 0.1}}, "artillery")
	r.NoteBusy(Trial{Noise: &Noise{OtherCores: 1.2, Load1: 9}}, "open model")
	if len(r.Busy) != 1 || !strings.HasPrefix(r.Busy[0], "shared open model: other processes used 1.20 cores") {
		t.Errorf("busy %q, want the open model's line alone", r.Busy)
	}
}
