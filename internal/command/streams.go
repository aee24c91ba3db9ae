package command

import (
	"math"

	"github.com/cairn-db/cairn/internal/keyspace"
	"github.com/cairn-db/cairn/internal/resp"
)

// Stream commands. The layout is in keyspace/stream.go; reading (XREAD, XREADGROUP) is in
// streams_read.go, consumer groups in streams_groups.go, XINFO in streams_info.go.

func init() {
	Register(
		&Command{Name: "xadd", Run: runXAdd, Args: xaddArgs()},
		&Command{Name: "xlen", Run: runXLen},
		&Command{Name: "xrange", Run: runXRange},
		&Command{Name: "xrevrange", Run: runXRange},
		&Command{Name: "xdel", Run: runXDel},
		&Command{Name: "xtrim", Run: runXTrim, Args: xtrimArgs()},
		&Command{Name: "xsetid", Run: runXSetID},
	)
}

// refPolicyArg is Redis 8.2's deletion policy argument of XADD and XTRIM.
var refPolicyArg = Arg{Name: "condition", Type: "oneof", Optional: true, KeySpecIndex: -1, Since: "8.2.0", Args: []Arg{
	{Name: "keepref", Type: "pure-token", Token: "KEEPREF", KeySpecIndex: -1},
	{Name: "delref", Type: "pure-token", Token: "DELREF", KeySpecIndex: -1},
	{Name: "acked", Type: "pure-token", Token: "ACKED", KeySpecIndex: -1},
}}

func trimArg(optional bool) Arg {
	return Arg{Name: "trim", Type: "block", Optional: optional, KeySpecIndex: -1, Args: []Arg{
		{Name: "strategy", Type: "oneof", KeySpecIndex: -1, Args: []Arg{
			{Name: "maxlen", Type: "pure-token", Token: "MAXLEN", KeySpecIndex: -1},
			{Name: "minid", Type: "pure-token", Token: "MINID", KeySpecIndex: -1, Since: "6.2.0"},
		}},
		{Name: "operator", Type: "oneof", Optional: true, KeySpecIndex: -1, Args: []Arg{
			{Name: "equal", Type: "pure-token", Token: "=", KeySpecIndex: -1},
			{Name: "approximately", Type: "pure-token", Token: "~", KeySpecIndex: -1},
		}},
		{Name: "threshold", Type: "string", KeySpecIndex: -1},
		{Name: "count", Type: "integer", Token: "LIMIT", Optional: true, KeySpecIndex: -1, Since: "6.2.0"},
	}}
}

// xaddArgs and xtrimArgs are the 8.2 grammars, with the deletion policy.
func xaddArgs() []Arg {
	return []Arg{{Name: "key", Type: "key", KeySpecIndex: 0},
		{Name: "nomkstream", Type: "pure-token", Token: "NOMKSTREAM", Optional: true, KeySpecIndex: -1, Since: "6.2.0"},
		refPolicyArg, trimArg(true),
		{Name: "id-selector", Type: "oneof", KeySpecIndex: -1, Args: []Arg{
			{Name: "auto-id", Type: "pure-token", Token: "*", KeySpecIndex: -1},
			{Name: "id", Type: "string", KeySpecIndex: -1},
		}},
		{Name: "data", Type: "block", Multiple: true, KeySpecIndex: -1, Args: []Arg{
			{Name: "field", Type: "string", KeySpecIndex: -1},
			{Name: "value", Type: "string", KeySpecIndex: -1},
		}},
	}
}

func xtrimArgs() []Arg {
	return []Arg{{Name: "key", Type: "key", KeySpecIndex: 0}, trimArg(false), refPolicyArg}
}

// streamNodeSize is the number of entries per node Redis's approximate trimming removes at once
// (stream-node-max-entries' default); cairn has no nodes, so "~" trims in steps of this size.
const streamNodeSize = 100

// openStream opens the stream at key; a key of another type writes WRONGTYPE.
func (c *Ctx) openStream(key []byte) (*keyspace.Stream, bool) {
	s, err := c.Tx.OpenStream(key)
	if err != nil {
		c.Fail(err)
		return nil, false
	}
	if s.WrongType() {
		c.WrongType()
		return nil, false
	}
	return s, true
}

// saveStream writes a stream's changes, writing the error reply on failure.
func (c *Ctx) saveStream(s *keyspace.Stream) bool {
	if err := s.Save(); err != nil {
		c.Fail(err)
		return false
	}
	return true
}

// trimArgs are the options XADD and XTRIM share.
type trimArgs struct {
	trim       keyspace.Trim
	strategy   bool // MAXLEN or MINID given
	noMkStream bool
	id         keyspace.StreamID
	idGiven    bool
	seqGiven   bool
}

// parseTrimArgs parses from c.Args[2] on, as Redis's streamParseAddOrTrimArgsOrReply; for XADD it
// stops at the ID and returns the position of the first field.
func (c *Ctx) parseTrimArgs(xadd bool) (trimArgs, int, bool) {
	a := trimArgs{trim: keyspace.Trim{MaxLen: -1}, seqGiven: true}
	limitGiven := false
	args := c.Args
	i := 2
	for ; i < len(args); i++ {
		more := len(args) - 1 - i
		opt := args[i]
		switch {
		case xadd && len(opt) == 1 && opt[0] == '*':
			return c.finishTrimArgs(a, limitGiven, i+1)
		case (EqualFold(opt, "maxlen") || EqualFold(opt, "minid")) && more > 0:
			if a.strategy {
				c.Err("ERR syntax error, MAXLEN and MINID options at the same time are not compatible")
				return a, 0, false
			}
			a.trim.Approx = false
			if next := args[i+1]; more >= 2 && len(next) == 1 && (next[0] == '~' || next[0] == '=') {
				a.trim.Approx = next[0] == '~'
				i++
			}
			if EqualFold(opt, "maxlen") {
				n, ok := ParseInt(args[i+1])
				if !ok {
					c.Err(ErrNotInt)
					return a, 0, false
				}
				if n < 0 {
					c.Err("ERR The MAXLEN argument must be >= 0.")
					return a, 0, false
				}
				a.trim.MaxLen = n
			} else {
				id, ok := c.parseID(args[i+1])
				if !ok {
					return a, 0, false
				}
				a.trim.MaxLen, a.trim.MinID = -1, id
			}
			a.strategy = true
			i++
		case EqualFold(opt, "limit") && more > 0:
			n, ok := ParseInt(args[i+1])
			if !ok {
				c.Err(ErrNotInt)
				return a, 0, false
			}
			if n < 0 {
				c.Err("ERR The LIMIT argument must be >= 0.")
				return a, 0, false
			}
			a.trim.Limit, limitGiven = n, true
			i++
		case xadd && EqualFold(opt, "nomkstream"):
			a.noMkStream = true
		case EqualFold(opt, "keepref"):
			a.trim.Policy = keyspace.KeepRef
		case EqualFold(opt, "delref"):
			a.trim.Policy = keyspace.DelRef
		case EqualFold(opt, "acked"):
			a.trim.Policy = keyspace.Acked
		case xadd:
			id, seqGiven, ok := parseStreamID(opt, idSpec{strict: true, seqStar: true})
			if !ok {
				c.Err(errInvalidStreamID)
				return a, 0, false
			}
			a.id, a.idGiven, a.seqGiven = id, true, seqGiven
			return c.finishTrimArgs(a, limitGiven, i+1)
		default:
			c.Syntax()
			return a, 0, false
		}
	}
	return c.finishTrimArgs(a, limitGiven, i)
}

func (c *Ctx) finishTrimArgs(a trimArgs, limitGiven bool, next int) (trimArgs, int, bool) {
	xadd := c.Cmd.Name == "xadd"
	switch {
	case a.trim.Limit != 0 && !a.strategy:
		c.Err("ERR syntax error, LIMIT cannot be used without specifying a trimming strategy")
		return a, 0, false
	case !xadd && !a.strategy:
		c.Err("ERR syntax error, XTRIM must be called with a trimming strategy")
		return a, 0, false
	case limitGiven && !a.trim.Approx:
		c.Err("ERR syntax error, LIMIT cannot be used without the special ~ option")
		return a, 0, false
	}
	if a.trim.Approx {
		a.trim.NodeSize = streamNodeSize
		if !limitGiven {
			a.trim.Limit = 100 * streamNodeSize
		}
	} else {
		a.trim.Limit = 0
	}
	return a, next, true
}

// XADD key [NOMKSTREAM] [KEEPREF|DELREF|ACKED] [MAXLEN|MINID [=|~] threshold [LIMIT count]]
// *|id field value [field value ...]
func runXAdd(c *Ctx) {
	a, fieldPos, ok := c.parseTrimArgs(true)
	if !ok {
		return
	}
	if n := len(c.Args) - fieldPos; n < 2 || n%2 == 1 {
		c.Err(ErrWrongArgs(c.Cmd.Name))
		return
	}
	if a.idGiven && a.seqGiven && a.id.IsZero() {
		c.Err("ERR The ID specified in XADD must be greater than 0-0")
		return
	}
	key := c.Args[1]
	s, ok := c.openStream(key)
	if !ok {
		return
	}
	if !s.Exists() {
		if a.noMkStream {
			c.W.Null()
			return
		}
		s.Create()
	}
	last := s.LastID()
	if last == keyspace.MaxStreamID {
		c.Err("ERR The stream has exhausted the last possible ID, unable to add more items")
		return
	}
	id, ok := nextStreamID(last, a, c.Now)
	if !ok {
		c.Err("ERR The ID specified in XADD is equal or smaller than the target stream top item")
		return
	}
	if err := s.Append(id, c.Args[fieldPos:]); err != nil {
		c.Fail(err)
		return
	}
	mark := c.W.Len()
	writeID(c.W, id)
	c.Tx.Notify('t', "xadd", key)
	if a.strategy {
		n, err := s.Trim(a.trim)
		if err != nil {
			c.W.Truncate(mark)
			c.Fail(err)
			return
		}
		if n > 0 {
			c.Tx.Notify('t', "xtrim", key)
		}
	}
	if err := s.Save(); err != nil {
		c.W.Truncate(mark)
		c.Fail(err)
	}
}

// nextStreamID is the ID XADD gives the new entry after last: the one given, "ms-*" with the next
// sequence, or for "*" the operation's time (never the wall clock, so replicas agree) or, if
// that is not past last, last's successor. ok is false if the ID would not be greater than last.
func nextStreamID(last keyspace.StreamID, a trimArgs, now int64) (keyspace.StreamID, bool) {
	var id keyspace.StreamID
	switch {
	case a.idGiven && a.seqGiven:
		id = a.id
	case a.idGiven:
		id = keyspace.StreamID{Ms: a.id.Ms}
		if last.Ms == a.id.Ms {
			if last.Seq == math.MaxUint64 {
				return id, false
			}
			id.Seq = last.Seq + 1
		}
	case uint64(now) > last.Ms:
		id = keyspace.StreamID{Ms: uint64(now)}
	default:
		next, ok := last.Next()
		if !ok {
			return id, false
		}
		id = next
	}
	return id, last.Less(id)
}

// XLEN key
func runXLen(c *Ctx) {
	s, ok := c.openStream(c.Args[1])
	if ok {
		c.W.Int(s.Len())
	}
}

// XRANGE key start end [COUNT count]; XREVRANGE key end start [COUNT count]
func runXRange(c *Ctx) {
	rev := c.Cmd.Name == "xrevrange"
	startArg, endArg := c.Args[2], c.Args[3]
	if rev {
		startArg, endArg = endArg, startArg
	}
	start, ok := c.parseRangeStart(startArg)
	if !ok {
		return
	}
	end, ok := c.parseRangeEnd(endArg)
	if !ok {
		return
	}
	count := int64(-1)
	for j := 4; j < len(c.Args); j++ {
		if EqualFold(c.Args[j], "count") && j+1 < len(c.Args) {
			n, ok := ParseInt(c.Args[j+1])
			if !ok {
				c.Err(ErrNotInt)
				return
			}
			count = max(n, 0)
			j++
			continue
		}
		c.Syntax()
		return
	}
	s, ok := c.openStream(c.Args[1])
	if !ok {
		return
	}
	if !s.Exists() {
		c.W.Array(0)
		return
	}
	if count == 0 {
		c.W.NullArray()
		return
	}
	c.replyRange(s, start, end, rev, count)
}

// replyRange replies the entries in [start, end] (at most count when count > 0) as an array.
func (c *Ctx) replyRange(s *keyspace.Stream, start, end keyspace.StreamID, rev bool, count int64) {
	var sub resp.Writer
	sub.Proto = c.W.Proto
	n, err := writeRange(&sub, s, start, end, rev, count)
	if err != nil {
		c.Fail(err)
		return
	}
	c.W.Array(n)
	c.W.Raw(sub.Buf)
}

// writeRange writes the entries in [start, end], at most count if count > 0, and returns how many.
func writeRange(w *resp.Writer, s *keyspace.Stream, start, end keyspace.StreamID, rev bool, count int64) (int, error) {
	n := 0
	var ferr error
	err := s.Range(start, end, rev, func(id keyspace.StreamID, v []byte) bool {
		if ferr = writeEntry(w, id, v); ferr != nil {
			return false
		}
		n++
		return count <= 0 || int64(n) < count
	})
	if err == nil {
		err = ferr
	}
	return n, err
}

// XDEL key id [id ...]. All IDs are parsed before anything is deleted, but after the key is
// looked up, as in Redis.
func runXDel(c *Ctx) {
	key := c.Args[1]
	s, ok := c.openStream(key)
	if !ok {
		return
	}
	if !s.Exists() {
		c.W.Int(0)
		return
	}
	ids, ok := c.parseIDs(c.Args[2:])
	if !ok {
		return
	}
	var deleted int64
	for _, id := range ids {
		done, err := s.Delete(id)
		if err != nil {
			c.Fail(err)
			return
		}
		if done {
			deleted++
		}
	}
	if deleted > 0 {
		if !c.saveStream(s) {
			return
		}
		c.Tx.Notify('t', "xdel", key)
	}
	c.W.Int(deleted)
}

// parseIDs parses strict IDs, writing the error reply at the first bad one.
func (c *Ctx) parseIDs(args [][]byte) ([]keyspace.StreamID, bool) {
	ids := make([]keyspace.StreamID, len(args))
	for i, a := range args {
		id, ok := c.parseID(a)
		if !ok {
			return nil, false
		}
		ids[i] = id
	}
	return ids, true
}

// XTRIM key [KEEPREF|DELREF|ACKED] MAXLEN|MINID [=|~] threshold [LIMIT count]
func runXTrim(c *Ctx) {
	a, _, ok := c.parseTrimArgs(false)
	if !ok {
		return
	}
	key := c.Args[1]
	s, ok := c.openStream(key)
	if !ok {
		return
	}
	if !s.Exists() {
		c.W.Int(0)
		return
	}
	n, err := s.Trim(a.trim)
	if err != nil {
		c.Fail(err)
		return
	}
	if n > 0 {
		if !c.saveStream(s) {
			return
		}
		c.Tx.Notify('t', "xtrim", key)
	}
	c.W.Int(n)
}

// XSETID key last-id [ENTRIESADDED entries-added] [MAXDELETEDID max-deleted-id]
func runXSetID(c *Ctx) {
	id, ok := c.parseID(c.Args[2])
	if !ok {
		return
	}
	entriesAdded := int64(-1)
	var maxDeleted keyspace.StreamID
	for i := 3; i < len(c.Args); i++ {
		more := len(c.Args) - 1 - i
		switch {
		case EqualFold(c.Args[i], "entriesadded") && more > 0:
			n, ok := ParseInt(c.Args[i+1])
			if !ok {
				c.Err(ErrNotInt)
				return
			}
			if n < 0 {
				c.Err("ERR entries_added must be positive")
				return
			}
			entriesAdded = n
			i++
		case EqualFold(c.Args[i], "maxdeletedid") && more > 0:
			if maxDeleted, ok = c.parseID(c.Args[i+1]); !ok {
				return
			}
			if id.Less(maxDeleted) {
				c.Err("ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id")
				return
			}
			i++
		default:
			c.Syntax()
			return
		}
	}
	key := c.Args[1]
	s, ok := c.openStream(key)
	if !ok {
		return
	}
	if !s.Exists() {
		c.Err(ErrNoSuchKey)
		return
	}
	if id.Less(s.MaxDeletedID()) {
		c.Err("ERR The ID specified in XSETID is smaller than current max_deleted_entry_id")
		return
	}
	if s.Len() > 0 {
		last, _, err := s.LastEntryID()
		if err != nil {
			c.Fail(err)
			return
		}
		if id.Less(last) {
			c.Err("ERR The ID specified in XSETID is smaller than the target stream top item")
			return
		}
		if entriesAdded != -1 && s.Len() > entriesAdded {
			c.Err("ERR The entries_added specified in XSETID is smaller than the target stream length")
			return
		}
	}
	added := s.EntriesAdded()
	if entriesAdded != -1 {
		added = uint64(entriesAdded)
	}
	if maxDeleted.IsZero() {
		maxDeleted = s.MaxDeletedID()
	}
	s.SetState(id, added, maxDeleted)
	if !c.saveStream(s) {
		return
	}
	c.Tx.Notify('t', "xsetid", key)
	c.W.OK()
}
