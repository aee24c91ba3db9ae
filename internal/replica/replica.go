package replica

import (
	"errors"
)

// Entry is one operation in the log.
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

// Done is called once an operation has been applied, with its result, or with an error if it
// was not applied (the log stopped, or storage failed) — in which case the caller cannot know
// whether a replica applied it.
type Done func(result []byte, err error)

// Proposal is an operation waiting for its turn.
type Proposal struct {
	Data []byte
	Done Done
}

// Log orders operations and applies them. The single-node form is Local; the Raft form (the
// replication issue) implements the same interface.
type Log interface {
	// Propose submits operations; each one's Done is called when it has been applied, in order.
	Propose(ps ...Proposal) error
	// Applied is the index of the last applied entry.
	Applied() uint64
	// Close stops the log; proposals not yet applied fail with ErrStopped.
	Close() error
}

// ErrStopped is reported to proposals that were pending when the log stopped.
var ErrStopped = errors.New("replica: log stopped")
