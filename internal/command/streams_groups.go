package command

import (
	"github.com/cairn-db/cairn/internal/keyspace"
	"github.com/cairn-db/cairn/internal/resp"
)

// Consumer groups: XGROUP, XACK, XPENDING, XCLAIM, XAUTOCLAIM.

func init() {
	Register(
		&Command{Name: "xgroup|create", Run: runXGroup},
		&Command{Name: "xgroup|setid", Run: runXGroup},
		&Command{Name: "xgroup|destroy", Run: runXGroup},
		&Command{Name: "xgroup|createconsumer", Run: runXGroup},
		&Command{Name: "xgroup|delconsumer", Run: runXGroup},
		&Command{Name: "xgroup|help", Run: runXGroupHelp},
		&Command{Name: "xack", Run: runXAck},
		&Command{Name: "xpending", Run: runXPending},
		&Command{Name: "xclaim", Run: runXClaim},
		&Command{Name: "xautoclaim", Run: runXAutoClaim},
	)
}

const errGroupNeedsKey = "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to " +
	"use the MKSTREAM option to create an empty stream automatically."

// parseEntriesRead parses an ENTRIESREAD value.
func (c *Ctx) parseEntriesRead(b []byte) (int64, bool) {
	n, ok := ParseInt(b)
	if !ok {
		c.Err(ErrNotInt)
		return 0, false
	}
	if n < 0 && n != -1 {
		c.Err("ERR value for ENTRIESREAD must be positive or -1")
		return 0, false
	}
	return n, true
}

// XGROUP CREATE key group id|$ [MKSTREAM] [ENTRIESREAD n] | SETID key group id|$ [ENTRIESREAD n]
// | DESTROY key group | CREATECONSUMER key group consumer | DELCONSUMER key group consumer,
// checked in the order Redis's xgroupCommand checks them.
func runXGroup(c *Ctx) {
	sub := c.Cmd.Name[len("xgroup|"):]
	mkstream := false
	entriesRead := int64(-1)
	switch sub {
	case "create":
		for i := 5; i < len(c.Args); i++ {
			switch {
			case EqualFold(c.Args[i], "mkstream"):
				mkstream = true
			case EqualFold(c.Args[i], "entriesread") && i+1 < len(c.Args):
				n, ok := c.parseEntriesRead(c.Args[i+1])
				if !ok {
					return
				}
				entriesRead = n
				i++
			default:
				c.subcommandSyntax()
				return
			}
		}
	case "setid":
		if len(c.Args) == 7 && EqualFold(c.Args[5], "entriesread") {
			n, ok := c.parseEntriesRead(c.Args[6])
			if !ok {
				return
			}
			entriesRead = n
		} else if len(c.Args) != 5 {
			c.subcommandSyntax()
			return
		}
	}
	key, name := c.Args[2], c.Args[3]
	s, ok := c.openStream(key)
	if !ok {
		return
	}
	if !s.Exists() && !mkstream {
		c.Err(errGroupNeedsKey)
		return
	}
	g, err := s.Group(name)
	if err != nil {
		c.Fail(err)
		return
	}
	if g == nil && (sub == "setid" || sub == "createconsumer" || sub == "delconsumer") {
		c.noGroup(name, key)
		return
	}
	switch sub {
	case "create":
		xgroupCreate(c, s, name, entriesRead)
	case "setid":
		id := s.LastID()
		if !(len(c.Args[4]) == 1 && c.Args[4][0] == '$') {
			var ok bool
			if id, _, ok = parseStreamID(c.Args[4], idSpec{}); !ok {
				c.Err(errInvalidStreamID)
				return
			}
		}
		g.LastID, g.EntriesRead = id, capEntriesRead(s, entriesRead)
		s.MarkGroup(g)
		if c.saveStream(s) {
			c.Tx.Notify('t', "xgroup-setid", key)
			c.W.OK()
		}
	case "destroy":
		if g == nil {
			c.W.Int(0)
			return
		}
		if _, err := s.DestroyGroup(name); err != nil {
			c.Fail(err)
			return
		}
		if c.saveStream(s) {
			c.Tx.Notify('t', "xgroup-destroy", key)
			c.W.Int(1)
		}
	case "createconsumer":
		cons, err := s.CreateConsumer(g, c.Args[4], c.Now)
		if err != nil {
			c.Fail(err)
			return
		}
		if cons == nil {
			c.W.Int(0)
			return
		}
		if c.saveStream(s) {
			c.Tx.Notify('t', "xgroup-createconsumer", key)
			c.W.Int(1)
		}
	case "delconsumer":
		pending, existed, err := s.DeleteConsumer(g, c.Args[4])
		if err != nil {
			c.Fail(err)
			return
		}
		if existed {
			if !c.saveStream(s) {
				return
			}
			c.Tx.Notify('t', "xgroup-delconsumer", key)
		}
		c.W.Int(pending)
	}
}

// capEntriesRead keeps a given read counter within what the stream ever had.
func capEntriesRead(s *keyspace.Stream, n int64) int64 {
	if added := int64(s.EntriesAdded()); n > added {
		return added
	}
	return n
}

func xgroupCreate(c *Ctx, s *keyspace.Stream, name []byte, entriesRead int64) {
	key := c.Args[2]
	var id keyspace.StreamID
	if len(c.Args[4]) == 1 && c.Args[4][0] == '$' {
		id = s.LastID()
	} else {
		var ok bool
		if id, ok = c.parseID(c.Args[4]); !ok {
			return
		}
	}
	if !s.Exists() {
		s.Create()
	}
	g, err := s.CreateGroup(name, id, capEntriesRead(s, entriesRead))
	if err != nil {
		c.Fail(err)
		return
	}
	if g == nil {
		c.Err("BUSYGROUP Consumer Group name already exists")
		return
	}
	if c.saveStream(s) {
		c.Tx.Notify('t', "xgroup-create", key)
		c.W.OK()
	}
}

var xgroupHelp = []string{
	"XGROUP <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
	"CREATE <key> <groupname> <id|$> [option]",
	"    Create a new consumer group. Options are:",
	"    * MKSTREAM",
	"      Create the empty stream if it does not exist.",
	"    * ENTRIESREAD entries_read",
	"      Set the group's entries_read counter (internal use).",
	"CREATECONSUMER <key> <groupname> <consumer>",
	"    Create a new consumer in the specified group.",
	"DELCONSUMER <key> <groupname> <consumer>",
	"    Remove the specified consumer.",
	"DESTROY <key> <groupname>",
	"    Remove the specified group.",
	"SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
	"    Set the current group ID and entries_read counter.",
	"HELP",
	"    Prints this help.",
}

func runXGroupHelp(c *Ctx) { writeHelp(c.W, xgroupHelp) }

// groupOf opens key and its group for XACK, XPENDING, XCLAIM, XAUTOCLAIM. missing reports that
// the key or group does not exist (no reply written); ok is false when an error was written.
func (c *Ctx) groupOf(key, name []byte) (s *keyspace.Stream, g *keyspace.StreamGroup, ok bool) {
	s, ok = c.openStream(key)
	if !ok || !s.Exists() {
		return s, nil, ok
	}
	g, err := s.Group(name)
	if err != nil {
		c.Fail(err)
		return nil, nil, false
	}
	return s, g, true
}

// noKeyOrGroup is the NOGROUP error of XPENDING, XCLAIM and XAUTOCLAIM.
func (c *Ctx) noKeyOrGroup() {
	c.Err("NOGROUP No such key '" + string(c.Args[1]) + "' or consumer group '" + string(c.Args[2]) + "'")
}

// XACK key group id [id ...]. The IDs are all parsed before anything is acknowledged.
func runXAck(c *Ctx) {
	s, g, ok := c.groupOf(c.Args[1], c.Args[2])
	if !ok {
		return
	}
	if g == nil {
		c.W.Int(0)
		return
	}
	ids, ok := c.parseIDs(c.Args[3:])
	if !ok {
		return
	}
	var acked int64
	for _, id := range ids {
		done, err := s.Ack(g, id)
		if err != nil {
			c.Fail(err)
			return
		}
		if done {
			acked++
		}
	}
	if acked > 0 && !c.saveStream(s) {
		return
	}
	c.W.Int(acked)
}

// XPENDING key group [[IDLE min-idle-time] start end count [consumer]]
func runXPending(c *Ctx) {
	n := len(c.Args)
	if n != 3 && (n < 6 || n > 9) {
		c.Syntax()
		return
	}
	var start, end keyspace.StreamID
	var count, minIdle int64
	var consumer []byte
	if n >= 6 {
		at := 3
		if EqualFold(c.Args[3], "idle") {
			v, ok := ParseInt(c.Args[4])
			if !ok {
				c.Err(ErrNotInt)
				return
			}
			minIdle = v
			if n < 8 {
				c.Syntax()
				return
			}
			at += 2
		}
		v, ok := ParseInt(c.Args[at+2])
		if !ok {
			c.Err(ErrNotInt)
			return
		}
		count = max(v, 0)
		if start, ok = c.parseRangeStart(c.Args[at]); !ok {
			return
		}
		if end, ok = c.parseRangeEnd(c.Args[at+1]); !ok {
			return
		}
		if at+3 < n {
			consumer = c.Args[at+3]
		}
	}
	s, g, ok := c.groupOf(c.Args[1], c.Args[2])
	if !ok {
		return
	}
	if g == nil {
		c.noKeyOrGroup()
		return
	}
	if n == 3 {
		c.pendingSummary(s, g)
		return
	}
	var sub resp.Writer
	sub.Proto = c.W.Proto
	items := 0
	emit := func(id keyspace.StreamID, nack keyspace.StreamNACK) bool {
		if int64(items) == count {
			return false
		}
		idle := c.Now - nack.DeliveryTime
		if minIdle != 0 && idle < minIdle {
			return true
		}
		sub.Array(4)
		writeID(&sub, id)
		sub.Bulk(nack.Consumer)
		sub.Int(max(idle, 0))
		sub.Int(nack.DeliveryCount)
		items++
		return true
	}
	var err error
	if consumer != nil {
		err = c.consumerPending(s, g, consumer, start, end, emit)
	} else if count > 0 {
		err = s.GroupPending(g, start, end, emit)
	}
	if err != nil {
		c.Fail(err)
		return
	}
	c.W.Array(items)
	c.W.Raw(sub.Buf)
}

// consumerPending visits a consumer's PEL entries in [start, end] with their NACKs.
func (c *Ctx) consumerPending(s *keyspace.Stream, g *keyspace.StreamGroup, name []byte, start, end keyspace.StreamID,
	fn func(keyspace.StreamID, keyspace.StreamNACK) bool) error {
	var ids []keyspace.StreamID
	err := s.ConsumerPending(g, name, start, end, func(id keyspace.StreamID) bool {
		ids = append(ids, id)
		return true
	})
	if err != nil {
		return err
	}
	for _, id := range ids {
		nack, ok, err := s.PendingEntry(g, id)
		if err != nil {
			return err
		}
		if ok && !fn(id, nack) {
			break
		}
	}
	return nil
}

// pendingSummary is XPENDING key group: count, smallest and largest ID, and the consumers with
// pending entries (their counts as bulk strings, as Redis sends them).
func (c *Ctx) pendingSummary(s *keyspace.Stream, g *keyspace.StreamGroup) {
	first, last, ok, err := s.PendingBounds(g)
	if err != nil {
		c.Fail(err)
		return
	}
	if !ok {
		c.W.Array(4)
		c.W.Int(0)
		c.W.Null()
		c.W.Null()
		c.W.NullArray()
		return
	}
	var sub resp.Writer
	sub.Proto = c.W.Proto
	n := 0
	err = s.Consumers(g, func(cons *keyspace.StreamConsumer) bool {
		if cons.Pending == 0 {
			return true
		}
		sub.Array(2)
		sub.Bulk(cons.Name)
		sub.BulkInt(cons.Pending)
		n++
		return true
	})
	if err != nil {
		c.Fail(err)
		return
	}
	c.W.Array(4)
	c.W.Int(g.Pending)
	writeID(c.W, first)
	writeID(c.W, last)
	c.W.Array(n)
	c.W.Raw(sub.Buf)
}

// claimTo makes cons own id (pending in g as prev, or new when prev is nil), delivered at time,
// with the delivery count bumped unless justID (or set, when retry >= 0).
func claimTo(s *keyspace.Stream, g *keyspace.StreamGroup, id keyspace.StreamID, prev *keyspace.StreamNACK,
	cons *keyspace.StreamConsumer, time, retry int64, justID bool) error {
	count := int64(1) // a NACK created by FORCE starts as delivered once
	if prev != nil {
		count = prev.DeliveryCount
	}
	switch {
	case retry >= 0:
		count = retry
	case !justID:
		count++
	}
	return s.SetPending(g, id, prev, cons, time, count)
}

// consumerFor finds or creates the consumer a claim goes to, refreshing its seen-time.
func (c *Ctx) consumerFor(s *keyspace.Stream, g *keyspace.StreamGroup, name []byte) (*keyspace.StreamConsumer, error) {
	cons, err := s.Consumer(g, name)
	if err != nil {
		return nil, err
	}
	if cons == nil {
		if cons, err = s.CreateConsumer(g, name, c.Now); err != nil {
			return nil, err
		}
		c.Tx.Notify('t', "xgroup-createconsumer", c.Args[1])
	}
	cons.SeenTime = c.Now
	s.MarkConsumer(cons)
	return cons, nil
}

// claimOpts are XCLAIM's options.
type claimOpts struct {
	minIdle, deliveryTime, retry int64
	force, justID                bool
	lastID                       keyspace.StreamID
}

// parseClaim parses XCLAIM's IDs and options; the IDs end at the first argument that is not one.
func (c *Ctx) parseClaim() ([]keyspace.StreamID, claimOpts, bool) {
	o := claimOpts{deliveryTime: -1, retry: -1}
	v, ok := ParseInt(c.Args[4])
	if !ok {
		c.Err("ERR Invalid min-idle-time argument for XCLAIM")
		return nil, o, false
	}
	o.minIdle = max(v, 0)
	var ids []keyspace.StreamID
	j := 5
	for ; j < len(c.Args); j++ {
		id, _, ok := parseStreamID(c.Args[j], idSpec{strict: true})
		if !ok {
			break
		}
		ids = append(ids, id)
	}
	for ; j < len(c.Args); j++ {
		more := len(c.Args) - 1 - j
		opt := c.Args[j]
		switch {
		case EqualFold(opt, "force"):
			o.force = true
		case EqualFold(opt, "justid"):
			o.justID = true
		case EqualFold(opt, "idle") && more > 0:
			j++
			v, ok := ParseInt(c.Args[j])
			if !ok {
				c.Err("ERR Invalid IDLE option argument for XCLAIM")
				return nil, o, false
			}
			o.deliveryTime = c.Now - v
		case EqualFold(opt, "time") && more > 0:
			j++
			v, ok := ParseInt(c.Args[j])
			if !ok {
				c.Err("ERR Invalid TIME option argument for XCLAIM")
				return nil, o, false
			}
			o.deliveryTime = v
		case EqualFold(opt, "retrycount") && more > 0:
			j++
			v, ok := ParseInt(c.Args[j])
			if !ok {
				c.Err("ERR Invalid RETRYCOUNT option argument for XCLAIM")
				return nil, o, false
			}
			o.retry = v
		case EqualFold(opt, "lastid") && more > 0:
			j++
			id, ok := c.parseID(c.Args[j])
			if !ok {
				return nil, o, false
			}
			o.lastID = id
		default:
			c.Err("ERR Unrecognized XCLAIM option '" + string(opt) + "'")
			return nil, o, false
		}
	}
	// A bogus time (a client's clock ahead of ours) means now rather than an error.
	if o.deliveryTime < 0 || o.deliveryTime > c.Now {
		o.deliveryTime = c.Now
	}
	return ids, o, true
}

// XCLAIM key group consumer min-idle-time id [id ...] [IDLE ms] [TIME ms] [RETRYCOUNT count]
// [FORCE] [JUSTID] [LASTID id]
func runXClaim(c *Ctx) {
	s, g, ok := c.groupOf(c.Args[1], c.Args[2])
	if !ok {
		return
	}
	if g == nil {
		c.noKeyOrGroup()
		return
	}
	ids, o, ok := c.parseClaim()
	if !ok {
		return
	}
	if g.LastID.Less(o.lastID) {
		g.LastID = o.lastID
		s.MarkGroup(g)
	}
	cons, err := c.consumerFor(s, g, c.Args[3])
	if err != nil {
		c.Fail(err)
		return
	}
	var sub resp.Writer
	sub.Proto = c.W.Proto
	n := 0
	for _, id := range ids {
		claimed, err := c.claimOne(&sub, s, g, cons, id, o)
		if err != nil {
			c.Fail(err)
			return
		}
		if claimed {
			n++
		}
	}
	if !c.saveStream(s) {
		return
	}
	c.W.Array(n)
	c.W.Raw(sub.Buf)
}

// claimOne claims one ID for XCLAIM, writing its reply item if it was claimed. An ID whose entry
// no longer exists leaves the PEL.
func (c *Ctx) claimOne(w *resp.Writer, s *keyspace.Stream, g *keyspace.StreamGroup, cons *keyspace.StreamConsumer,
	id keyspace.StreamID, o claimOpts) (bool, error) {
	nack, pending, err := s.PendingEntry(g, id)
	if err != nil {
		return false, err
	}
	v, exists, err := s.Get(id)
	if err != nil {
		return false, err
	}
	if !exists {
		if pending {
			_, err = s.Ack(g, id)
		}
		return false, err
	}
	var prev *keyspace.StreamNACK
	switch {
	case pending:
		if o.minIdle > 0 && c.Now-nack.DeliveryTime < o.minIdle {
			return false, nil
		}
		prev = &nack
	case !o.force:
		return false, nil
	}
	if err := claimTo(s, g, id, prev, cons, o.deliveryTime, o.retry, o.justID); err != nil {
		return false, err
	}
	cons.ActiveTime = c.Now
	if o.justID {
		writeID(w, id)
		return true, nil
	}
	return true, writeEntry(w, id, v)
}

// XAUTOCLAIM key group consumer min-idle-time start [COUNT count] [JUSTID]
func runXAutoClaim(c *Ctx) {
	v, ok := ParseInt(c.Args[4])
	if !ok {
		c.Err("ERR Invalid min-idle-time argument for XAUTOCLAIM")
		return
	}
	minIdle := max(v, 0)
	start, ok := c.parseRangeStart(c.Args[5])
	if !ok {
		return
	}
	count, justID := int64(100), false
	const attemptsFactor = 10
	for j := 6; j < len(c.Args); j++ {
		switch {
		case EqualFold(c.Args[j], "count") && j+1 < len(c.Args):
			n, ok := ParseInt(c.Args[j+1])
			if !ok || n < 1 || n > (1<<63-1)/16 {
				c.Err("ERR COUNT must be > 0")
				return
			}
			count = n
			j++
		case EqualFold(c.Args[j], "justid"):
			justID = true
		default:
			c.Syntax()
			return
		}
	}
	s, g, ok := c.groupOf(c.Args[1], c.Args[2])
	if !ok {
		return
	}
	if g == nil {
		c.noKeyOrGroup()
		return
	}
	cons, err := c.consumerFor(s, g, c.Args[3])
	if err != nil {
		c.Fail(err)
		return
	}
	// Visit the PEL from start: at most count*10 entries examined, count claimed or found gone.
	type pel struct {
		id   keyspace.StreamID
		nack keyspace.StreamNACK
	}
	var seen []pel
	attempts := count * attemptsFactor
	cursor := keyspace.StreamID{}
	err = s.GroupPending(g, start, keyspace.MaxStreamID, func(id keyspace.StreamID, n keyspace.StreamNACK) bool {
		if int64(len(seen)) == attempts {
			cursor = id
			return false
		}
		n.Consumer = append([]byte(nil), n.Consumer...)
		seen = append(seen, pel{id, n})
		return true
	})
	if err != nil {
		c.Fail(err)
		return
	}
	var sub resp.Writer
	sub.Proto = c.W.Proto
	var deleted []keyspace.StreamID
	claimed := 0
	left := count
	for _, p := range seen {
		if left == 0 {
			cursor = p.id
			break
		}
		v, exists, err := s.Get(p.id)
		if err != nil {
			c.Fail(err)
			return
		}
		if !exists {
			if _, err := s.Ack(g, p.id); err != nil {
				c.Fail(err)
				return
			}
			deleted = append(deleted, p.id)
			left--
			continue
		}
		if minIdle > 0 && c.Now-p.nack.DeliveryTime < minIdle {
			continue
		}
		nack := p.nack
		if err := claimTo(s, g, p.id, &nack, cons, c.Now, -1, justID); err != nil {
			c.Fail(err)
			return
		}
		cons.ActiveTime = c.Now
		if justID {
			writeID(&sub, p.id)
		} else if err := writeEntry(&sub, p.id, v); err != nil {
			c.Fail(err)
			return
		}
		claimed++
		left--
	}
	if !c.saveStream(s) {
		return
	}
	c.W.Array(3)
	writeID(c.W, cursor)
	c.W.Array(claimed)
	c.W.Raw(sub.Buf)
	c.W.Array(len(deleted))
	for _, id := range deleted {
		writeID(c.W, id)
	}
}
