package prefork

import (
	"context"
	"fmt"
	"os"
	"syscall"
	"testing"
)

// socketlessWorker is a worker of a Socketless master: ready at once, then
// idle until told to stop.
func socketlessWorker() int {
	w, err := NewSocketlessWorker()
	if err != nil {
		fmt.Fprintln(os.Stderr, "socketless worker:", err)
		return 2
	}
	err = w.Run(context.Background(), func(ctx context.Context, ready func()) error {
		ready()
		<-ctx.Done()
		return nil
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "socketless worker:", err)
		return 1
	}
	return 0
}

// TestSocketless: workers without a socket report ready themselves, are
// replaced after kill -9, and stop cleanly.
func TestSocketless(t *testing.T) {
	c := startCluster(t, BalanceShared, 2, Socketless(), Addr(""), Command(os.Args[0], "socketless"))
	victim := c.waitReady(t, 2)[0]
	if err := syscall.Kill(victim, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	c.waitReady(t, 2, victim)
	if err := c.stop(t); err != nil {
		t.Errorf("stop: %v", err)
	}
}
