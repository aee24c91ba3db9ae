package replica

import (
	"errors"
)

// Entry is one operation in the log. Data is nil for entries that carry no operation (a new
// leader's first entry); the state machine records their index and produces no result.
type Entry struct {
	Index uint64
	Data  []byte
}

// StateMachine applies committed entries in log order. Apply is called from one goroutine at a
// time with a run of consecutive entries; it must apply them atomically (one storage batch) and
// make them durable as its sync policy requires before returning. results has one slot per
// entry for the reply the operation produced.
type StateMachine interface {
	Apply(entries []Entry, results [][]byte) error
}

// SyncDeferrer is a state machine whose Apply may return before what it applied is durable
// (under appendfsync always). TakeSync returns what waits until it is, nil if nothing waits; the
// log acknowledges the operations only after that, and may apply the next ones meanwhile.
type SyncDeferrer interface {
	TakeSync() func() error
}

// Done is called once an operation has been applied, with its result, or with an error if it
// was not applied (the log stopped, or storage failed) — in which case the caller cannot know
// whether a replica applied it.
type Done func(result []byte, err error)

// Proposal is an operation waiting for its turn.
type Proposal struct {
	Data []byte
	Done Done
	// Long marks an operation whose apply may take long (a write whose cost grows with the
	// data): while Local's goroutine applies one, Busy says so.
	Long bool
}

// Log orders operations and applies them. The single-node form is Local; the replicated form
// is Raft.
type Log interface {
	// Propose submits operations; each one's Done is called when it has been applied, in order.
	Propose(ps ...Proposal) error
	// Applied is the index of the last applied entry.
	Applied() uint64
	// ReadIndex calls done once this replica has applied every entry committed before the
	// call: a read after that sees every write acknowledged before it began (linearizable).
	// done may run on another goroutine, or at once.
	ReadIndex(done func(error))
	// WaitApplied calls done once this replica has applied index (at once if it has).
	WaitApplied(index uint64, done func(error))
	// Close stops the log; proposals not yet applied fail with ErrStopped.
	Close() error
}

// Errors reported to Done and read callbacks. Whether an operation took effect differs: see
// each.
var (
	// ErrStopped is reported to proposals that were pending when the log stopped; they may or
	// may not have been applied.
	ErrStopped = errors.New("replica: log stopped")
	// ErrNotLeader is reported to a proposal made on a replica that is not the leader. The
	// operation was not applied.
	ErrNotLeader = errors.New("replica: not the leader")
	// ErrDropped is reported to a proposal whose entry was lost in a leader change. The
	// operation was not applied, and is not re-proposed: a retry is the client's decision.
	ErrDropped = errors.New("replica: operation lost in a leader change")
	// ErrUnknown is reported to a proposal whose fate was not learned in time: it may or may not
	// be applied later.
	ErrUnknown = errors.New("replica: operation outcome unknown (no quorum in time)")
	// ErrLogFull is reported to a proposal that waited ProposalTimeout for room in the log:
	// the uncommitted entries ahead of it (a big write) did not commit in that time. The
	// operation was not applied.
	ErrLogFull = errors.New("replica: the log's uncommitted entries stayed full")
	// ErrNoLeader is reported to reads that need a leader when none is known or reachable.
	ErrNoLeader = errors.New("replica: no leader")
)
