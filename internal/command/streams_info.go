package command

import (
	"github.com/cairn-db/cairn/internal/keyspace"
	"github.com/cairn-db/cairn/internal/resp"
)

// XINFO, and the consumer-group lag arithmetic it reports (Redis's streamReplyWithCGLag and
// streamEstimateDistanceFromFirstEverEntry, with the 7.4 fixes for trimmed streams).

func init() {
	Register(
		&Command{Name: "xinfo|stream", Run: runXInfoStream},
		&Command{Name: "xinfo|groups", Run: runXInfoGroups},
		&Command{Name: "xinfo|consumers", Run: runXInfoConsumers},
		&Command{Name: "xinfo|help", Run: runXInfoHelp},
	)
}

// rangeHasTombstones reports whether entries from start on may have been deleted by XDEL.
func rangeHasTombstones(s *keyspace.Stream, start keyspace.StreamID) bool {
	md := s.MaxDeletedID()
	if s.Len() == 0 || md.IsZero() {
		return false
	}
	return !md.Less(start)
}

// estimateEntriesRead is the logical read counter of id (its distance from the first entry ever
// added), or -1 when it cannot be known.
func estimateEntriesRead(s *keyspace.Stream, id keyspace.StreamID) int64 {
	added := int64(s.EntriesAdded())
	if added == 0 {
		return 0
	}
	last := s.LastID()
	if s.Len() == 0 && !last.Less(id) {
		return added
	}
	switch id.Compare(last) {
	case 0:
		return added
	case 1:
		return -1
	}
	md, first := s.MaxDeletedID(), s.FirstID()
	if md.IsZero() || md.Less(first) {
		switch id.Compare(first) {
		case -1:
			return added - s.Len()
		case 0:
			return added - s.Len() + 1
		}
	}
	return -1
}

// groupLag is the number of entries g has yet to read; ok is false when it cannot be known.
func groupLag(s *keyspace.Stream, g *keyspace.StreamGroup) (int64, bool) {
	added := int64(s.EntriesAdded())
	if added == 0 || s.Len() == 0 {
		return 0, true
	}
	md, first := s.MaxDeletedID(), s.FirstID()
	if g.LastID.Less(first) && (md.IsZero() || md.Less(first)) {
		return s.Len(), true // everything left is after the group's position
	}
	if g.EntriesRead != -1 && !rangeHasTombstones(s, g.LastID) {
		return added - g.EntriesRead, true
	}
	if read := estimateEntriesRead(s, g.LastID); read != -1 {
		return added - read, true
	}
	return 0, false
}

// mapHeader writes a map of n pairs (a flat array in RESP2).
func mapHeader(w *resp.Writer, n int) { w.Map(n) }

// optInt writes n, or a null when ok is false.
func optInt(w *resp.Writer, n int64, ok bool) {
	if ok {
		w.Int(n)
	} else {
		w.Null()
	}
}

// openInfoStream looks the key up for XINFO: missing is "no such key".
func (c *Ctx) openInfoStream() (*keyspace.Stream, bool) {
	s, ok := c.openStream(c.Args[2])
	if ok && !s.Exists() {
		c.Err(ErrNoSuchKey)
		return nil, false
	}
	return s, ok
}

// XINFO STREAM key [FULL [COUNT count]]
func runXInfoStream(c *Ctx) {
	s, ok := c.openInfoStream()
	if !ok {
		return
	}
	full, count := false, int64(10)
	if len(c.Args) > 3 {
		if !EqualFold(c.Args[3], "full") || (len(c.Args) > 4 && (len(c.Args) != 6 || !EqualFold(c.Args[4], "count"))) {
			c.subcommandSyntax()
			return
		}
		full = true
		if len(c.Args) == 6 {
			n, ok := ParseInt(c.Args[5])
			if !ok {
				c.Err(ErrNotInt)
				return
			}
			if n < 0 {
				n = 10
			}
			count = n
		}
	}
	var sub resp.Writer
	sub.Proto = c.W.Proto
	var err error
	if full {
		err = writeStreamFull(&sub, s, count, c.Now)
	} else {
		err = writeStreamSummary(&sub, s)
	}
	if err != nil {
		c.Fail(err)
		return
	}
	c.W.Raw(sub.Buf)
}

// subcommandSyntax is Redis's addReplySubcommandSyntaxError.
func (c *Ctx) subcommandSyntax() {
	c.Err("ERR unknown subcommand or wrong number of arguments for '" + string(c.Args[1]) + "'. Try " +
		upper(c.Cmd.Parent.Name) + " HELP.")
}

func upper(s string) string {
	b := []byte(s)
	for i, ch := range b {
		if ch >= 'a' && ch <= 'z' {
			b[i] = ch - 'a' + 'A'
		}
	}
	return string(b)
}

// writeStreamHead writes the fields XINFO STREAM starts with, in both forms. Redis's radix tree
// figures have no counterpart in cairn's layout: they are reported as Redis would for nodes of
// 100 entries.
func writeStreamHead(w *resp.Writer, s *keyspace.Stream) {
	keys := (s.Len() + streamNodeSize - 1) / streamNodeSize
	w.BulkString("length")
	w.Int(s.Len())
	w.BulkString("radix-tree-keys")
	w.Int(keys)
	w.BulkString("radix-tree-nodes")
	w.Int(keys + 1)
	w.BulkString("last-generated-id")
	writeID(w, s.LastID())
	w.BulkString("max-deleted-entry-id")
	writeID(w, s.MaxDeletedID())
	w.BulkString("entries-added")
	w.Int(int64(s.EntriesAdded()))
	w.BulkString("recorded-first-entry-id")
	writeID(w, s.FirstID())
}

func writeStreamSummary(w *resp.Writer, s *keyspace.Stream) error {
	mapHeader(w, 10)
	writeStreamHead(w, s)
	w.BulkString("groups")
	w.Int(s.GroupCount())
	for _, rev := range []bool{false, true} {
		if rev {
			w.BulkString("last-entry")
		} else {
			w.BulkString("first-entry")
		}
		n, err := writeRange(w, s, keyspace.StreamID{}, keyspace.MaxStreamID, rev, 1)
		if err != nil {
			return err
		}
		if n == 0 {
			w.Null()
		}
	}
	return nil
}

func writeStreamFull(w *resp.Writer, s *keyspace.Stream, count, now int64) error {
	mapHeader(w, 9)
	writeStreamHead(w, s)
	w.BulkString("entries")
	var sub resp.Writer
	sub.Proto = w.Proto
	n, err := writeRange(&sub, s, keyspace.StreamID{}, keyspace.MaxStreamID, false, count)
	if err != nil {
		return err
	}
	w.Array(n)
	w.Raw(sub.Buf)
	w.BulkString("groups")
	w.Array(int(s.GroupCount()))
	var ferr error
	err = s.Groups(func(g *keyspace.StreamGroup) bool {
		ferr = writeGroupFull(w, s, g, count)
		return ferr == nil
	})
	if err == nil {
		err = ferr
	}
	return err
}

func writeGroupFull(w *resp.Writer, s *keyspace.Stream, g *keyspace.StreamGroup, count int64) error {
	mapHeader(w, 7)
	w.BulkString("name")
	w.Bulk(g.Name)
	w.BulkString("last-delivered-id")
	writeID(w, g.LastID)
	w.BulkString("entries-read")
	optInt(w, g.EntriesRead, g.EntriesRead != -1)
	w.BulkString("lag")
	lag, ok := groupLag(s, g)
	optInt(w, lag, ok)
	w.BulkString("pel-count")
	w.Int(g.Pending)
	w.BulkString("pending")
	n := g.Pending
	if count > 0 {
		n = min(n, count)
	}
	w.Array(int(n))
	i := int64(0)
	err := s.GroupPending(g, keyspace.StreamID{}, keyspace.MaxStreamID, func(id keyspace.StreamID, nack keyspace.StreamNACK) bool {
		if i == n {
			return false
		}
		w.Array(4)
		writeID(w, id)
		w.Bulk(nack.Consumer)
		w.Int(nack.DeliveryTime)
		w.Int(nack.DeliveryCount)
		i++
		return true
	})
	if err != nil {
		return err
	}
	w.BulkString("consumers")
	w.Array(int(g.Consumers))
	var ferr error
	err = s.Consumers(g, func(cons *keyspace.StreamConsumer) bool {
		mapHeader(w, 5)
		w.BulkString("name")
		w.Bulk(cons.Name)
		w.BulkString("seen-time")
		w.Int(cons.SeenTime)
		w.BulkString("active-time")
		w.Int(cons.ActiveTime)
		w.BulkString("pel-count")
		w.Int(cons.Pending)
		w.BulkString("pending")
		m := cons.Pending
		if count > 0 {
			m = min(m, count)
		}
		w.Array(int(m))
		j := int64(0)
		ferr = s.ConsumerPending(g, cons.Name, keyspace.StreamID{}, keyspace.MaxStreamID, func(id keyspace.StreamID) bool {
			if j == m {
				return false
			}
			nack, _, err := s.PendingEntry(g, id)
			if err != nil {
				ferr = err
				return false
			}
			w.Array(3)
			writeID(w, id)
			w.Int(nack.DeliveryTime)
			w.Int(nack.DeliveryCount)
			j++
			return true
		})
		return ferr == nil
	})
	if err == nil {
		err = ferr
	}
	return err
}

// XINFO GROUPS key
func runXInfoGroups(c *Ctx) {
	s, ok := c.openInfoStream()
	if !ok {
		return
	}
	var sub resp.Writer
	sub.Proto = c.W.Proto
	n := 0
	err := s.Groups(func(g *keyspace.StreamGroup) bool {
		mapHeader(&sub, 6)
		sub.BulkString("name")
		sub.Bulk(g.Name)
		sub.BulkString("consumers")
		sub.Int(g.Consumers)
		sub.BulkString("pending")
		sub.Int(g.Pending)
		sub.BulkString("last-delivered-id")
		writeID(&sub, g.LastID)
		sub.BulkString("entries-read")
		optInt(&sub, g.EntriesRead, g.EntriesRead != -1)
		sub.BulkString("lag")
		lag, ok := groupLag(s, g)
		optInt(&sub, lag, ok)
		n++
		return true
	})
	if err != nil {
		c.Fail(err)
		return
	}
	c.W.Array(n)
	c.W.Raw(sub.Buf)
}

// XINFO CONSUMERS key group
func runXInfoConsumers(c *Ctx) {
	s, ok := c.openInfoStream()
	if !ok {
		return
	}
	g, err := s.Group(c.Args[3])
	if err != nil {
		c.Fail(err)
		return
	}
	if g == nil {
		c.noGroup(c.Args[3], c.Args[2])
		return
	}
	var sub resp.Writer
	sub.Proto = c.W.Proto
	n := 0
	err = s.Consumers(g, func(cons *keyspace.StreamConsumer) bool {
		mapHeader(&sub, 4)
		sub.BulkString("name")
		sub.Bulk(cons.Name)
		sub.BulkString("pending")
		sub.Int(cons.Pending)
		sub.BulkString("idle")
		sub.Int(max(0, c.Now-cons.SeenTime))
		sub.BulkString("inactive")
		if cons.ActiveTime == -1 {
			sub.Int(-1)
		} else {
			sub.Int(max(0, c.Now-cons.ActiveTime))
		}
		n++
		return true
	})
	if err != nil {
		c.Fail(err)
		return
	}
	c.W.Array(n)
	c.W.Raw(sub.Buf)
}

// noGroup is XGROUP's and XINFO's NOGROUP error.
func (c *Ctx) noGroup(group, key []byte) {
	c.Err("NOGROUP No such consumer group '" + string(group) + "' for key name '" + string(key) + "'")
}

var xinfoHelp = []string{
	"XINFO <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
	"CONSUMERS <key> <groupname>",
	"    Show consumers of <groupname>.",
	"GROUPS <key>",
	"    Show the stream consumer groups.",
	"STREAM <key> [FULL [COUNT <count>]",
	"    Show information about the stream.",
	"HELP",
	"    Prints this help.",
}

func runXInfoHelp(c *Ctx) { writeHelp(c.W, xinfoHelp) }

func writeHelp(w *resp.Writer, lines []string) {
	w.Array(len(lines))
	for _, l := range lines {
		w.Status(l)
	}
}
