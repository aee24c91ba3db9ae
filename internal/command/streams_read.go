package command

import (
	"github.com/cairn-db/cairn/internal/keyspace"
	"github.com/cairn-db/cairn/internal/resp"
)

// XREAD and XREADGROUP.
//
// XREAD is a read, but with BLOCK it must be able to register as a waiter, which only apply can
// do: a read that finds nothing to serve asks to run again as a write (Ctx.WantWrite), and in
// apply it blocks like any blocking command. XREADGROUP is always a write (it moves the group's
// position and PEL).
//
// A waiter is re-run whenever one of its keys changes. "$" means "entries added after the command
// blocked", so before blocking the command records its arguments with each "$" (and "+")
// replaced by the ID it resolved to (Ctx.BlockArgs); re-runs read from there. XREADGROUP with ">"
// needs no rewriting: the group's last delivered ID is the position.

func init() {
	Register(
		&Command{Name: "xread", Run: runXRead, Keys: xreadKeys},
		&Command{Name: "xreadgroup", Run: runXRead, Keys: xreadKeys},
	)
}

// readArgs are XREAD's and XREADGROUP's parsed options.
type readArgs struct {
	group, consumer []byte
	timeout         int64 // ms; -1 without BLOCK, 0 forever
	count           int64 // 0: no limit
	noack           bool
	keys, ids       [][]byte
	idsAt           int // index of the first ID argument
}

// xreadKeys finds the keys after STREAMS, as the key spec says.
func xreadKeys(args [][]byte) []int {
	for i := 1; i < len(args); i++ {
		if EqualFold(args[i], "streams") {
			n := (len(args) - i - 1) / 2
			out := make([]int, n)
			for j := range out {
				out[j] = i + 1 + j
			}
			return out
		}
		if EqualFold(args[i], "group") {
			i += 2
		} else if EqualFold(args[i], "count") || EqualFold(args[i], "block") || EqualFold(args[i], "claim") {
			i++
		}
	}
	return nil
}

// parseRead parses the options as Redis's xreadCommand does, in the same order of checks.
func (c *Ctx) parseRead() (readArgs, bool) {
	group := c.Cmd.Name == "xreadgroup"
	a := readArgs{timeout: -1}
	args := c.Args
	for i := 1; i < len(args); i++ {
		more := len(args) - i - 1
		o := args[i]
		switch {
		case EqualFold(o, "block") && more > 0:
			i++
			ms, ok := ParseInt(args[i])
			if !ok {
				c.Err("ERR timeout is not an integer or out of range")
				return a, false
			}
			if ms < 0 {
				c.Err(ErrNegTimeout)
				return a, false
			}
			if ms > 0 && ms > 1<<63-1-c.Now {
				c.Err(errTimeoutRange)
				return a, false
			}
			a.timeout = ms
		case EqualFold(o, "count") && more > 0:
			i++
			n, ok := ParseInt(args[i])
			if !ok {
				c.Err(ErrNotInt)
				return a, false
			}
			a.count = max(n, 0)
		case EqualFold(o, "streams") && more > 0:
			n := len(args) - i - 1
			if n%2 != 0 {
				if group {
					c.Err("ERR Unbalanced 'xreadgroup' list of streams: for each stream key an ID or '>' must be specified.")
				} else {
					c.Err("ERR Unbalanced 'xread' list of streams: for each stream key an ID, '+', or '$' must be specified.")
				}
				return a, false
			}
			a.keys, a.ids, a.idsAt = args[i+1:i+1+n/2], args[i+1+n/2:], i+1+n/2
			i = len(args)
		case EqualFold(o, "group") && more >= 2:
			if !group {
				c.Err("ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.")
				return a, false
			}
			a.group, a.consumer = args[i+1], args[i+2]
			i += 2
		case EqualFold(o, "noack"):
			if !group {
				c.Err("ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.")
				return a, false
			}
			a.noack = true
		case group && EqualFold(o, "claim"):
			c.Err("ERR XREADGROUP CLAIM (Redis 8.4) is not supported by cairn")
			return a, false
		default:
			c.Syntax()
			return a, false
		}
	}
	if a.keys == nil {
		c.Syntax()
		return a, false
	}
	if group && a.group == nil {
		c.Err("ERR Missing GROUP option for XREADGROUP")
		return a, false
	}
	return a, true
}

// readSource is one stream of a read: the handle, the group, and the position to read after.
type readSource struct {
	key    []byte
	s      *keyspace.Stream
	g      *keyspace.StreamGroup
	after  keyspace.StreamID
	newOne bool // ">": new entries for the group
}

// XREAD [COUNT count] [BLOCK ms] STREAMS key [key ...] id [id ...]
// XREADGROUP GROUP group consumer [COUNT count] [BLOCK ms] [NOACK] STREAMS key [key ...] id [id ...]
func runXRead(c *Ctx) {
	a, ok := c.parseRead()
	if !ok {
		return
	}
	srcs, rewritten, ok := c.resolveRead(&a)
	if !ok {
		return
	}
	var sub resp.Writer
	sub.Proto = c.W.Proto
	n, err := c.serveRead(&sub, &a, srcs)
	if err != nil {
		c.Fail(err)
		return
	}
	if n > 0 {
		if c.W.RESP3() {
			c.W.Map(n)
		} else {
			c.W.Array(n)
		}
		c.W.Raw(sub.Buf)
		return
	}
	if a.timeout >= 0 && !c.InApply {
		c.WantWrite = true // only apply can register a waiter
	}
	if a.timeout >= 0 && c.InApply && c.CanBlock() {
		c.WouldBlock(a.timeout, a.keys...)
		if rewritten {
			c.BlockArgs = c.rewriteIDs(&a, srcs)
		}
		return
	}
	c.W.NullArray()
}

// resolveRead opens the streams, checks types and groups, and resolves each ID argument, in
// argument order as Redis does. rewritten reports whether an ID was "$" or "+".
func (c *Ctx) resolveRead(a *readArgs) ([]readSource, bool, bool) {
	srcs := make([]readSource, len(a.keys))
	open := map[string]*keyspace.Stream{}
	rewritten := false
	for i, key := range a.keys {
		s := open[string(key)]
		if s == nil {
			var ok bool
			if s, ok = c.openStream(key); !ok {
				return nil, false, false
			}
			open[string(key)] = s
		}
		src := readSource{key: key, s: s}
		if a.group != nil {
			g, err := s.Group(a.group)
			if err != nil {
				c.Fail(err)
				return nil, false, false
			}
			if g == nil {
				c.Err("NOGROUP No such key '" + string(key) + "' or consumer group '" + string(a.group) +
					"' in XREADGROUP with GROUP option")
				return nil, false, false
			}
			src.g = g
		}
		id := a.ids[i]
		switch {
		case len(id) == 1 && id[0] == '$':
			if a.group != nil {
				c.Err("ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of " +
					"this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would " +
					"just return an empty result set.")
				return nil, false, false
			}
			src.after = s.LastID()
			rewritten = true
		case len(id) == 1 && id[0] == '>':
			if a.group == nil {
				c.Err("ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.")
				return nil, false, false
			}
			src.newOne = true
		case len(id) == 1 && id[0] == '+' && a.group == nil:
			// The last entry: read after the ID just before the stream's last one.
			if prev, ok := s.LastID().Prev(); ok && s.Exists() {
				src.after = prev
			}
			rewritten = true
		default:
			var ok bool
			if src.after, ok = c.parseID(id); !ok {
				return nil, false, false
			}
		}
		srcs[i] = src
	}
	return srcs, rewritten, true
}

// rewriteIDs returns the command's arguments with each ID replaced by the resolved one.
func (c *Ctx) rewriteIDs(a *readArgs, srcs []readSource) [][]byte {
	out := make([][]byte, len(c.Args))
	copy(out, c.Args)
	for i, src := range srcs {
		if !src.newOne {
			out[a.idsAt+i] = src.after.AppendText(nil)
		}
	}
	return out
}

// serveRead writes the [key, entries] items of the streams that have something to serve and
// returns how many.
func (c *Ctx) serveRead(w *resp.Writer, a *readArgs, srcs []readSource) (int, error) {
	n := 0
	for i := range srcs {
		src := &srcs[i]
		if !src.s.Exists() {
			continue
		}
		var served bool
		var err error
		if src.g != nil {
			served, err = c.serveGroup(w, a, src)
		} else {
			served, err = serveStream(w, a, src)
		}
		if err != nil {
			return 0, err
		}
		if served {
			n++
		}
	}
	return n, nil
}

// item writes the header of one [key, entries] item.
func readItem(w *resp.Writer, key []byte) {
	if !w.RESP3() {
		w.Array(2)
	}
	w.Bulk(key)
}

// serveStream serves XREAD from one stream: the entries after src.after, if there are any.
func serveStream(w *resp.Writer, a *readArgs, src *readSource) (bool, error) {
	start, ok := src.after.Next()
	if !ok || src.s.Len() == 0 {
		return false, nil
	}
	var sub resp.Writer
	sub.Proto = w.Proto
	n, err := writeRange(&sub, src.s, start, keyspace.MaxStreamID, false, a.count)
	if err != nil || n == 0 {
		return false, err
	}
	readItem(w, src.key)
	w.Array(n)
	w.Raw(sub.Buf)
	return true, nil
}

// serveGroup serves XREADGROUP from one stream: new entries for ">", else the consumer's own
// pending entries after the ID given (always answered, possibly with no entries). The consumer is
// created if needed and its seen-time refreshed — unless the command is being re-run for a
// waiter and will block again, which must leave no trace (it would wake the waiters again).
func (c *Ctx) serveGroup(w *resp.Writer, a *readArgs, src *readSource) (bool, error) {
	s, g := src.s, src.g
	cons, err := s.Consumer(g, a.consumer)
	if err != nil {
		return false, err
	}
	created := cons == nil
	if created {
		if cons, err = s.CreateConsumer(g, a.consumer, c.Now); err != nil {
			return false, err
		}
	}
	save := func() error {
		if created {
			c.Tx.Notify('t', "xgroup-createconsumer", src.key)
		}
		return s.Save()
	}
	cons.SeenTime = c.Now
	s.MarkConsumer(cons)
	var sub resp.Writer
	sub.Proto = w.Proto
	var n int
	if src.newOne {
		n, err = c.deliverNew(&sub, a, src, cons)
	} else {
		n, err = c.deliverHistory(&sub, a, src, cons)
	}
	if err != nil {
		return false, err
	}
	if n == 0 && src.newOne {
		if c.Rerun && a.timeout >= 0 {
			return false, nil // blocks again; nothing is saved
		}
		return false, save()
	}
	if err := save(); err != nil {
		return false, err
	}
	readItem(w, src.key)
	w.Array(n)
	w.Raw(sub.Buf)
	return true, nil
}

// deliverNew delivers the entries after the group's last delivered ID to cons, moving the
// group's position and, without NOACK, adding them to the PELs.
func (c *Ctx) deliverNew(w *resp.Writer, a *readArgs, src *readSource, cons *keyspace.StreamConsumer) (int, error) {
	s, g := src.s, src.g
	start, ok := g.LastID.Next()
	if !ok || s.Len() == 0 {
		return 0, nil
	}
	var got []keyspace.StreamID
	n, err := writeRangeFn(w, s, start, a.count, func(id keyspace.StreamID) { got = append(got, id) })
	if err != nil {
		return 0, err
	}
	for _, id := range got {
		advanceGroup(s, g, id)
		if !a.noack {
			prev, had, err := s.PendingEntry(g, id)
			if err != nil {
				return 0, err
			}
			var p *keyspace.StreamNACK
			if had {
				p = &prev
			}
			if err := s.SetPending(g, id, p, cons, c.Now, 1); err != nil {
				return 0, err
			}
		}
	}
	if n > 0 {
		cons.ActiveTime = c.Now
		s.MarkGroup(g)
	}
	return n, nil
}

// writeRangeFn writes the entries from start on (at most count if count > 0), calling seen with
// each ID, and returns how many.
func writeRangeFn(w *resp.Writer, s *keyspace.Stream, start keyspace.StreamID, count int64, seen func(keyspace.StreamID)) (int, error) {
	n := 0
	var ferr error
	err := s.Range(start, keyspace.MaxStreamID, false, func(id keyspace.StreamID, v []byte) bool {
		if ferr = writeEntry(w, id, v); ferr != nil {
			return false
		}
		seen(id)
		n++
		return count <= 0 || int64(n) < count
	})
	if err == nil {
		err = ferr
	}
	return n, err
}

// deliverHistory re-delivers cons's pending entries after src.after: each counts as a new
// delivery; one whose entry was deleted is answered as [id, nil].
func (c *Ctx) deliverHistory(w *resp.Writer, a *readArgs, src *readSource, cons *keyspace.StreamConsumer) (int, error) {
	s, g := src.s, src.g
	start, ok := src.after.Next()
	if !ok {
		return 0, nil
	}
	var ids []keyspace.StreamID
	err := s.ConsumerPending(g, cons.Name, start, keyspace.MaxStreamID, func(id keyspace.StreamID) bool {
		ids = append(ids, id)
		return a.count <= 0 || int64(len(ids)) < a.count
	})
	if err != nil {
		return 0, err
	}
	for _, id := range ids {
		v, ok, err := s.Get(id)
		if err != nil {
			return 0, err
		}
		if !ok {
			writeEntry(w, id, nil)
			continue
		}
		if err := writeEntry(w, id, v); err != nil {
			return 0, err
		}
		nack, ok, err := s.PendingEntry(g, id)
		if err != nil {
			return 0, err
		}
		if ok {
			if err := s.SetPending(g, id, &nack, cons, c.Now, nack.DeliveryCount+1); err != nil {
				return 0, err
			}
			cons.ActiveTime = c.Now
		}
	}
	return len(ids), nil
}

// advanceGroup moves g's last delivered ID to id (an entry it delivers), keeping its read
// counter exact while it can be known, as Redis's streamReplyWithRange does.
func advanceGroup(s *keyspace.Stream, g *keyspace.StreamGroup, id keyspace.StreamID) {
	if !g.LastID.Less(id) {
		return
	}
	if g.EntriesRead != -1 && !g.LastID.Less(s.FirstID()) && !rangeHasTombstones(s, g.LastID) {
		g.EntriesRead++
	} else if s.EntriesAdded() > 0 {
		g.EntriesRead = estimateEntriesRead(s, id)
	}
	g.LastID = id
}
