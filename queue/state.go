package queue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/flipbench/flipbench/contract"
	"github.com/flipbench/flipbench/server"
)

// record is a submitted job's state in the StateBucket, under its id. The
// front creates it queued; the worker that runs the job moves it to running
// and then to done or failed, each by compare-and-set on the revision it
// read, so that of two deliveries of one job only the first result stays.
type record struct {
	State  string `json:"state"`
	Upload bool   `json:"upload,omitempty"`
	PID    int    `json:"pid,omitempty"` // the worker that runs it
	// QueuedAt is the broker's stamp of the queued revision, and Queue the
	// time from it to the broker's stamp of the running one: worker clocks
	// may differ from the front's.
	QueuedAt time.Time     `json:"queued_at,omitzero"`
	Queue    time.Duration `json:"queue_ns,omitempty"`
	Result   *resultMsg    `json:"result,omitempty"`
}

func (r record) finished() bool { return r.State == contract.JobDone || r.State == contract.JobFailed }

// finalRecord is the record of a job that ended with res.
func finalRecord(res resultMsg) record {
	r := record{State: contract.JobDone, PID: res.PID, Result: &res}
	if res.Error != "" {
		r.State = contract.JobFailed
	}
	return r
}

// jobState is the record as the HTTP server sees it.
func (r record) jobState() server.JobState {
	st := server.JobState{State: r.State, Upload: r.Upload, Outcome: server.Outcome{PID: r.PID, Queue: r.Queue}}
	if res := r.Result; res != nil {
		st.Outcome = server.Outcome{
			PID: res.PID, Worker: res.Worker, Job: res.JobTime, Bytes: res.Bytes, Steps: res.Steps,
			Format: res.Format, Queue: r.Queue,
		}
		st.Err = res.err()
	}
	return st
}

// states is the bucket of job states, read and written within budget.
type states struct {
	kv     jetstream.KeyValue
	budget budget
}

// get reads job id's record; false when there is none.
func (s states) get(ctx context.Context, id string) (record, jetstream.KeyValueEntry, bool, error) {
	var e jetstream.KeyValueEntry
	err := s.budget.run(ctx, "read job state", func(ctx context.Context) (err error) {
		e, err = s.kv.Get(ctx, id)
		return err
	})
	if errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrKeyDeleted) {
		return record{}, nil, false, nil
	}
	if err != nil {
		return record{}, nil, false, err
	}
	var r record
	if err := json.Unmarshal(e.Value(), &r); err != nil {
		return record{}, nil, false, fmt.Errorf("decode job state: %w", err)
	}
	return r, e, true, nil
}

// create stores a new job's record.
func (s states) create(ctx context.Context, id string, r record) error {
	data, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encode job state: %w", err)
	}
	tries := 0
	err = s.budget.run(ctx, "store job state", func(ctx context.Context) error {
		tries++
		_, err := s.kv.Create(ctx, id, data)
		if errors.Is(err, jetstream.ErrKeyExists) && tries > 1 {
			return nil // an earlier attempt landed, its answer did not: ids are never reused
		}
		return err
	})
	return err
}

// put stores r as job id's record, whatever is there.
func (s states) put(ctx context.Context, id string, r record) error {
	data, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encode job state: %w", err)
	}
	return s.budget.run(ctx, "store job state", func(ctx context.Context) error {
		_, err := s.kv.Put(ctx, id, data)
		return err
	})
}

// change applies f to job id's record by compare-and-set, reading it again
// after a conflict. f returns false to leave the record as it is; change
// then returns false too. A record gone (expired) is left alone.
func (s states) change(ctx context.Context, id string, f func(r *record, e jetstream.KeyValueEntry) bool) (bool, error) {
	for {
		r, e, ok, err := s.get(ctx, id)
		if err != nil || !ok {
			return false, err
		}
		if !f(&r, e) {
			return false, nil
		}
		data, err := json.Marshal(r)
		if err != nil {
			return false, fmt.Errorf("encode job state: %w", err)
		}
		err = s.budget.run(ctx, "update job state", func(ctx context.Context) error {
			_, err := s.kv.Update(ctx, id, data, e.Revision())
			return err
		})
		if errors.Is(err, jetstream.ErrKeyExists) {
			// Someone else wrote first (or a lost answer hid our own write):
			// decide again on what is there now.
			continue
		}
		return err == nil, err
	}
}

// expired is whether a finished record read as e is past ttl.
func expired(r record, e jetstream.KeyValueEntry, ttl time.Duration, now time.Time) bool {
	return r.finished() && now.Sub(e.Created()) >= ttl
}
