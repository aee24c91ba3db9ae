package shard

import (
	"sync/atomic"

	"github.com/cockroachdb/pebble/v2"

	"github.com/cairn-db/cairn/internal/command"
	"github.com/cairn-db/cairn/internal/keyspace"
	"github.com/cairn-db/cairn/internal/replica"
)

// sweepBatch is how many expired keys one sweep operation removes.
const sweepBatch = 512

// Sweep removes expired keys, then expired hash fields, through the log, batch by batch, until
// none are left or stop is closed. Reads never see expired keys or fields; this reclaims their
// space. Only the shard's leader sweeps: its deletions are replicated. now gives the time to
// assign to each operation.
//
// A sweep that finds nothing due lets the shard rest for a second (sweepRest): expired keys are
// invisible to reads at once, so this only delays reclaiming space, and it keeps the cost of a
// node holding many idle shards near nothing.
func (s *Shard) Sweep(now func() int64, stop <-chan struct{}) error {
	if err := s.buildIndexes(now, stop); err != nil {
		return err
	}
	t := now()
	if t < s.sweepRest.Load() {
		return nil
	}
	found, err := s.sweepIndex(keyspace.ExpiredKeys, command.SweepArgs, &s.sweptKeys, now, stop)
	if err != nil {
		return err
	}
	more, err := s.sweepIndex(keyspace.ExpiredFieldKeys, command.FieldSweepArgs, &s.sweptFields, now, stop)
	if err == nil && !found && !more {
		s.sweepRest.Store(t + 1000)
	}
	return err
}

// expiryIndex reads what an expiry index lists as due (keyspace.ExpiredKeys, ExpiredFieldKeys).
type expiryIndex func(r pebble.Reader, now int64, limit int) ([]keyspace.ExpiredKey, error)

// errStopping ends a sweep early; it is not reported.
var errStopping error

// SweepStats are the sweep operations this shard's sweeper had applied (while it led), and the
// expired keys and hash fields they removed.
func (s *Shard) SweepStats() (sweeps, keys, fields int64) {
	return s.sweeps.Load(), s.sweptKeys.Load(), s.sweptFields.Load()
}

// sweepIndex proposes the removals an expiry index lists as due, counting them in swept; it
// reports whether there were any.
func (s *Shard) sweepIndex(due expiryIndex, args func(db byte, key []byte, at int64) [][]byte, swept *atomic.Int64, now func() int64, stop <-chan struct{}) (bool, error) {
	for found := false; ; found = true {
		v := s.Acquire()
		keys, err := due(v.Engine.DB(), now(), sweepBatch)
		v.Release()
		if err != nil || len(keys) == 0 {
			return found, err
		}
		cmds := make([][][]byte, len(keys))
		for i, k := range keys {
			cmds[i] = args(k.DB, k.Key, k.At)
		}
		data := command.AppendOpHeader(nil, command.OpHeader{Proto: 2, Flags: command.OpSystem, Time: now(), Shard: s.opts.ID, Version: s.opVersion()}, cmds...)
		if err := s.proposeWait(data, stop); err != nil {
			return true, err
		}
		s.sweeps.Add(1)
		swept.Add(int64(len(keys)))
		if len(keys) < sweepBatch {
			return true, nil
		}
		select {
		case <-stop:
			return true, errStopping
		default:
		}
	}
}

// ClearWaiters removes the blocked clients an earlier run (or a former leader) left in the
// replicated state: their connections are gone.
func (s *Shard) ClearWaiters(now int64, stop <-chan struct{}) error {
	data := command.AppendOpHeader(nil, command.OpHeader{Proto: 2, Time: now, Shard: s.opts.ID, Version: s.opVersion()}, command.UnblockAllArgs())
	return s.proposeWait(data, stop)
}

// proposeWait proposes one operation and waits until it is applied or stop is closed.
func (s *Shard) proposeWait(data []byte, stop <-chan struct{}) error {
	done := make(chan error, 1)
	if err := s.log.Propose(replica.Proposal{Data: data, Done: func(_ []byte, err error) { done <- err }}); err != nil {
		return err
	}
	select {
	case err := <-done:
		return err
	case <-stop:
		return errStopping
	}
}

// opVersion is the cluster version the shard's own operations are stamped with (0: the
// binary's own).
func (s *Shard) opVersion() uint32 {
	if s.opts.ClusterVersion == nil {
		return 0
	}
	return s.opts.ClusterVersion()
}
