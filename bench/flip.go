package bench

import (
	"cmp"
	"context"
	"fmt"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/flipbench/flipbench/internal/procfs"
	"github.com/flipbench/flipbench/loadtest"
	"github.com/flipbench/flipbench/trial"
)

// flipTrial is the flip workload's measure of one trial: the round's S
// when the mode is BaselineMode, then the round's bursts and keep-alive
// clients.
type flipTrial struct {
	b        *runner
	slot     int
	answered *int
	// adminToken is a cluster's admin token, for its histograms.
	adminToken string
	side       *serverSide
}

// measure is the trial's Measure.
func (f *flipTrial) measure(ctx context.Context, t *trial.Trial) error {
	b := f.b
	if t.Server.Spec.Name == b.sum.BaselineName() && b.cur.s == nil {
		if err := b.measureS(ctx, t); err != nil {
			return err
		}
	}
	s := b.guessS(t.Rec.WarmupJob.D())
	b.tr.Sized(f.slot, t.Rec.Capacity, s)
	if f.slot == 0 || (f.slot == 1 && b.sSpec != nil) {
		b.estimate(s)
	}
	t.Logf("%s: capacity %d, warm-up job time %s (median of %d sequential requests), S %s",
		t.Server.Spec.Name, t.Rec.Capacity, t.Rec.WarmupJob, len(t.Rec.Warmup), f.sText())
	f.side = newServerSide(t, f.adminToken)
	for j, n := range b.cur.rec.Levels {
		b.tr.Begin(f.slot, j)
		if done, err := f.burst(ctx, t, n, s); done || err != nil {
			return err
		}
	}
	if err := f.keepAlive(ctx, t, s); err != nil || t.Rec.MemoryStop != nil || t.Server.Exited() {
		return err
	}
	return f.rates(ctx, t)
}

// sText says which S the round's bursts count in.
func (f *flipTrial) sText() string {
	if f.b.cur.s == nil {
		return "not yet measured this round (the bursts are counted in it at the round's end)"
	}
	return "about " + f.b.cur.s.S.String() + " (the round's S, known at its end, pools standard's bursts)"
}

// burst fires the burst of n at t's server and records it; done says the
// trial can go no further (the server failed or exited).
func (f *flipTrial) burst(ctx context.Context, t *trial.Trial, n int, s time.Duration) (done bool, err error) {
	b, name, pid := f.b, loadtest.BurstName(n), t.Server.PID()
	timeout := cmp.Or(b.c.Timeout, trial.AutoTimeout(n, t.Rec.Capacity, s))
	before, hasSide := f.side.before(ctx, len(t.Rec.Warmup))
	var got atomic.Int64
	mem, load := trial.WatchMemory(ctx, pid, b.c.MaxRSS, n, func() int { return n - int(got.Load()) })
	rs, aerr := loadtest.Burst(load, t.Server.Target(), n,
		loadtest.WithTimeout(timeout),
		loadtest.WithName(t.Server.Spec.Name+"/"+name),
		loadtest.WithOnResult(func(*vegeta.Result) { got.Add(1); f.count(ctx) }),
	)
	rss, stopped := mem.End()
	if stopped != nil {
		t.Rec.MemoryStop = stopped
		t.Logf("%s: %s; its process group was killed, on to the next mode", t.Server.Spec.Name, stopped)
	}
	if aerr != nil && ctx.Err() == nil && stopped == nil {
		t.Problem("burst of %d: %v", n, aerr)
		return true, nil
	}
	// The metrics hold only what the results say: the ideal and efficiency
	// are derived from the round's S, known at the round's end, in the
	// summary's figures.
	m := loadtest.Compute(rs, loadtest.Params{Capacity: t.Rec.Capacity, Timeout: timeout})
	m.Level, m.ServerPeakRSS, m.ServerHWM = n, rss, procfs.GroupHWM(pid)
	m.Stopped = loadtest.StoppedReason(aerr)
	if ctx.Err() != nil {
		// Keep what the interrupted burst gathered, under its own name.
		_ = loadtest.WriteLevel(t.Dir, name+"-interrupted", rs, m)
		return true, ctx.Err()
	}
	if hasSide {
		m.Server = f.side.after(ctx, t, before, answeredCount(m))
	}
	if err := loadtest.WriteLevel(t.Dir, name, rs, m); err != nil {
		return true, fmt.Errorf("%s: %w", t.Server.Spec.Name, err)
	}
	t.Rec.Levels = append(t.Rec.Levels, m)
	if t.Server.Spec.Name == b.sum.BaselineName() && b.cur.s != nil && stopped == nil {
		if ends, err := answerTimes(rs); err == nil {
			b.cur.pooled = append(b.cur.pooled, n)
			b.cur.answers = append(b.cur.answers, ends)
		}
	}
	t.Logf("%s", levelLine(t.Server.Spec.Name, m))
	return t.Server.Exited() || stopped != nil, nil // the stop reports an exit
}

// count counts one answer on the progress bar.
func (f *flipTrial) count(ctx context.Context) {
	if ctx.Err() != nil {
		f.b.tr.Halt()
		return
	}
	*f.answered++
	f.b.tr.Add()
}

// keepAlive runs each of the round's keep-alive client counts at t's
// server, after its bursts. s is the job time a duration is counted in.
func (f *flipTrial) keepAlive(ctx context.Context, t *trial.Trial, s time.Duration) error {
	b, mode := f.b, t.Server.Spec.Name
	tgt := t.Server.Target()
	for _, c := range b.cur.rec.Clients {
		l := loadtest.Closed{Clients: c, Duration: b.c.ClientsDuration}
		if l.Duration == 0 {
			l.Duration = KeepAliveDuration(c, t.Rec.Capacity, s)
		}
		t.Logf("%s: %s", mode, l)
		name := loadtest.KeepAliveName(c)
		mem, load := trial.WatchMemory(ctx, t.Server.PID(), b.c.MaxRSS, c, func() int { return c })
		rs, err := loadtest.KeepAlive(load, tgt, l, loadtest.WithTimeout(l.Duration+time.Minute), loadtest.WithName(mode+"/"+name),
			loadtest.WithGoneAfter(loadtest.DefaultGoneAfter))
		rss, stopped := mem.End()
		if err != nil && ctx.Err() == nil && stopped == nil {
			t.Problem("%s: %v", l, err)
			return nil
		}
		m := loadtest.ComputeKeepAlive(rs, l)
		m.ServerPeakRSS, m.Stopped = rss, loadtest.StoppedReason(err)
		if ctx.Err() != nil {
			_ = loadtest.WriteKeepAlive(t.Dir, name+"-interrupted", rs, m)
			return ctx.Err()
		}
		if err := loadtest.WriteKeepAlive(t.Dir, name, rs, m); err != nil {
			return fmt.Errorf("%s: %w", mode, err)
		}
		t.Rec.KeepAlive = append(t.Rec.KeepAlive, m)
		t.Logf("%s", keepAliveLine(mode, m))
		if stopped != nil {
			t.Rec.MemoryStop = cmp.Or(t.Rec.MemoryStop, stopped)
			t.Logf("%s: %s during %s; its process group was killed, on to the next mode", mode, stopped, l)
			return nil
		}
		if t.Server.Exited() {
			return nil
		}
	}
	return nil
}
