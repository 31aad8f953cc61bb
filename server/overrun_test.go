package server

import (
	"net/http"
	"sync/atomic"
	"testing"
)

func TestJobOverrunAnswers503AndTells(t *testing.T) {
	var overruns atomic.Int32
	// A nanosecond: every job overruns, whether it stops at a step boundary
	// or is still running when its request gets the answer.
	s := newServer(t, Config{JobTimeout: 1, OnJobOverrun: func() { overruns.Add(1) }})
	ts := start(t, s)
	a := post(t, ts.URL, "", nil)
	if a.status != http.StatusServiceUnavailable {
		t.Fatalf("status %d, want 503: %s", a.status, a.body)
	}
	if a.header.Get("Retry-After") == "" {
		t.Error("no Retry-After on the 503")
	}
	checkFlipHeaders(t, a)
	// The job keeps its slot until it ends; the work dir check at cleanup
	// needs it gone.
	waitFor(t, "the overrun job to end", func() bool { running, _ := s.jobs.Load(); return running == 0 })
	if a := post(t, ts.URL, "", nil); a.status != http.StatusServiceUnavailable {
		t.Errorf("second job: status %d, want 503", a.status)
	}
	waitFor(t, "the second job to end", func() bool { running, _ := s.jobs.Load(); return running == 0 })
}

func TestNoJobTimeoutByDefault(t *testing.T) {
	s := newServer(t, Config{OnJobOverrun: func() { t.Error("overrun without a job timeout") }})
	if a := post(t, start(t, s).URL, "", nil); a.status != http.StatusOK {
		t.Fatalf("status %d, want 200: %s", a.status, a.body)
	}
}
