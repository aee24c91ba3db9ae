package sim

import (
	"time"

	"github.com/cairn-db/cairn/tests/check"
)

// Level is a read's consistency level.
type Level uint8

// Levels, as CONSISTENCY names them.
const (
	Strong Level = iota
	Session
	Eventual
)

func (l Level) String() string { return [...]string{"strong", "session", "eventual"}[l] }

// Status is how an operation ended.
type Status uint8

const (
	// Pending: no reply yet.
	Pending Status = iota
	// OK: the client got a reply.
	OK
	// Unknown: a write whose outcome the client never learned.
	Unknown
	// Refused: the operation certainly did not take effect (a write refused by a follower or
	// dropped in a leader change, a read that failed).
	Refused
)

func (s Status) String() string { return [...]string{"pending", "ok", "unknown", "refused"}[s] }

// Record is one operation as its client saw it.
type Record struct {
	Client int
	Level  Level
	Node   int    // index of the node it was (last) sent to
	Shard  uint64 // the shard owning its keys (0 for a cross-slot request)
	Input  check.Input
	Output check.Output
	Status Status
	Why    string // why it was refused or unknown
	Call   time.Duration
	Return time.Duration
	// OpID names a write's entry in the log (the operation's client field); 0 for a write
	// that no node proposed.
	OpID uint64
	// Redirects counts the -MOVED (and -ASK) replies the client followed; Asks the -ASK ones.
	Redirects, Asks int
	// Asking is set while the request is sent to an importing shard's node after -ASK: it goes
	// out preceded by ASKING (Version5).
	Asking bool
	// ViaLog marks a read served through its shard's log (a slot migrating out: Version5), so
	// its reply is checked at its log index; StateIndex is then that index.
	ViaLog bool
	// StateIndex is, for a read, the index of the state it read (the node's applied index).
	StateIndex uint64
	// Position is, for a session read, the session's position it waited for.
	Position uint64
}

// History is every operation of a run, in the order they were issued.
type History struct {
	ops  []*Record
	byOp map[uint64]*Record
}

func (h *History) add(r *Record) {
	h.ops = append(h.ops, r)
	h.index(r)
}

// index records the operation ID a write was given (when it is proposed, from Version4).
func (h *History) index(r *Record) {
	if r.OpID != 0 {
		if h.byOp == nil {
			h.byOp = map[uint64]*Record{}
		}
		h.byOp[r.OpID] = r
	}
}
