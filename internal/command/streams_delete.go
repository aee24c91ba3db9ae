package command

import (
	"math"

	"github.com/cairn-db/cairn/internal/keyspace"
)

// Redis 8.2's XDELEX and XACKDEL: deletion with control over the consumer groups' references
// (KEEPREF, DELREF, ACKED). Each ID gets a code: -1 no such entry (XACKDEL: not pending in the
// group), 1 deleted (XACKDEL: acknowledged and deleted), 2 kept because a group still needs it.

func init() {
	policy := Arg{Name: "condition", Type: "oneof", Optional: true, KeySpecIndex: -1, Args: []Arg{
		{Name: "keepref", Type: "pure-token", Token: "KEEPREF", KeySpecIndex: -1},
		{Name: "delref", Type: "pure-token", Token: "DELREF", KeySpecIndex: -1},
		{Name: "acked", Type: "pure-token", Token: "ACKED", KeySpecIndex: -1},
	}}
	ids := Arg{Name: "ids", Type: "block", Token: "IDS", KeySpecIndex: -1, Args: []Arg{
		{Name: "numids", Type: "integer", KeySpecIndex: -1},
		{Name: "id", Type: "string", Multiple: true, KeySpecIndex: -1},
	}}
	spec := []KeySpec{{Flags: []string{"RW", "DELETE"}, BeginIndex: 1, Range: true, LastKey: 0, KeyStep: 1}}
	Register(
		&Command{Name: "xdelex", Arity: -5, Flags: FlagWrite | FlagFast, FirstKey: 1, LastKey: 1, Step: 1,
			Categories: []string{"write", "stream", "fast"}, Group: "stream", Since: "8.2.0",
			Summary:  "Deletes one or multiple entries from the stream.",
			KeySpecs: spec,
			Args:     []Arg{{Name: "key", Type: "key", KeySpecIndex: 0}, policy, ids},
			Run:      runXDelEx},
		&Command{Name: "xackdel", Arity: -6, Flags: FlagWrite | FlagFast, FirstKey: 1, LastKey: 1, Step: 1,
			Categories: []string{"write", "stream", "fast"}, Group: "stream", Since: "8.2.0",
			Summary:  "Acknowledges and conditionally deletes one or multiple entries for a stream consumer group.",
			KeySpecs: spec,
			Args:     []Arg{{Name: "key", Type: "key", KeySpecIndex: 0}, {Name: "group", Type: "string", KeySpecIndex: -1}, policy, ids},
			Run:      runXAckDel},
	)
}

// Reply codes.
const (
	delNoID       = -1
	delDeleted    = 1
	delReferenced = 2
)

// parseDeleteArgs parses [KEEPREF|DELREF|ACKED] IDS numids id [id ...] from c.Args[from] on.
func (c *Ctx) parseDeleteArgs(from int) (keyspace.RefPolicy, []keyspace.StreamID, bool) {
	policy, policyGiven := keyspace.KeepRef, false
	var ids []keyspace.StreamID
	for i := from; i < len(c.Args); i++ {
		opt := c.Args[i]
		more := len(c.Args) - 1 - i
		switch {
		case EqualFold(opt, "ids") && more > 0 && ids == nil:
			n, ok := ParseInt(c.Args[i+1])
			if !ok || n < 1 {
				c.Err("ERR Number of IDs must be a positive integer")
				return policy, nil, false
			}
			if n > int64(more-1) || n > math.MaxInt32 {
				c.Err("ERR The `numids` parameter must match the number of arguments")
				return policy, nil, false
			}
			if ids, ok = c.parseIDs(c.Args[i+2 : i+2+int(n)]); !ok {
				return policy, nil, false
			}
			i += 1 + int(n)
		case !policyGiven && EqualFold(opt, "keepref"):
			policyGiven = true
		case !policyGiven && EqualFold(opt, "delref"):
			policy, policyGiven = keyspace.DelRef, true
		case !policyGiven && EqualFold(opt, "acked"):
			policy, policyGiven = keyspace.Acked, true
		default:
			c.Syntax()
			return policy, nil, false
		}
	}
	if ids == nil {
		c.Syntax()
		return policy, nil, false
	}
	return policy, ids, true
}

// replyCodes replies an array of -1s, as for a missing key or group.
func (c *Ctx) replyNoIDs(n int) {
	c.W.Array(n)
	for range n {
		c.W.Int(delNoID)
	}
}

// deleteWith deletes entry id under policy, reporting its reply code (XDELEX's).
func deleteWith(s *keyspace.Stream, id keyspace.StreamID, policy keyspace.RefPolicy) (int64, error) {
	switch policy {
	case keyspace.Acked:
		used, err := s.Referenced(id)
		if err != nil {
			return 0, err
		}
		if used {
			return delReferenced, nil
		}
	case keyspace.DelRef:
		if _, err := s.DropRefs(id); err != nil {
			return 0, err
		}
	}
	done, err := s.Delete(id)
	if err != nil || !done {
		return delNoID, err
	}
	return delDeleted, nil
}

// XDELEX key [KEEPREF|DELREF|ACKED] IDS numids id [id ...]
func runXDelEx(c *Ctx) {
	policy, ids, ok := c.parseDeleteArgs(2)
	if !ok {
		return
	}
	key := c.Args[1]
	s, ok := c.openStream(key)
	if !ok {
		return
	}
	if !s.Exists() {
		c.replyNoIDs(len(ids))
		return
	}
	codes := make([]int64, len(ids))
	deleted := false
	for i, id := range ids {
		code, err := deleteWith(s, id, policy)
		if err != nil {
			c.Fail(err)
			return
		}
		codes[i] = code
		deleted = deleted || code == delDeleted
	}
	if !c.saveStream(s) {
		return
	}
	if deleted {
		c.Tx.Notify('t', "xdel", key)
	}
	c.W.Array(len(codes))
	for _, code := range codes {
		c.W.Int(code)
	}
}

// XACKDEL key group [KEEPREF|DELREF|ACKED] IDS numids id [id ...]
func runXAckDel(c *Ctx) {
	policy, ids, ok := c.parseDeleteArgs(3)
	if !ok {
		return
	}
	key := c.Args[1]
	s, g, ok := c.groupOf(key, c.Args[2])
	if !ok {
		return
	}
	if g == nil {
		c.replyNoIDs(len(ids))
		return
	}
	codes := make([]int64, len(ids))
	deleted := false
	for i, id := range ids {
		acked, err := s.Ack(g, id)
		if err != nil {
			c.Fail(err)
			return
		}
		if !acked {
			codes[i] = delNoID
			continue
		}
		code, err := deleteWith(s, id, policy)
		if err != nil {
			c.Fail(err)
			return
		}
		deleted = deleted || code == delDeleted
		if code == delNoID {
			code = delDeleted // acknowledged; the entry itself was already gone
		}
		codes[i] = code
	}
	if !c.saveStream(s) {
		return
	}
	if deleted {
		c.Tx.Notify('t', "xdel", key)
	}
	c.W.Array(len(codes))
	for _, code := range codes {
		c.W.Int(code)
	}
}
