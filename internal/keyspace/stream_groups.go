package keyspace

import (
	"encoding/binary"
)

// Consumer groups, consumers and their pending entries lists.

// StreamGroup is a consumer group. The handle caches the groups it reads; changes to the fields
// are written back by Stream.Save once MarkGroup (or a PEL change) marked the group changed.
type StreamGroup struct {
	Name   []byte
	LastID StreamID
	// EntriesRead is the group's logical read counter, -1 when unknown.
	EntriesRead int64
	Pending     int64 // entries in the group's PEL
	Consumers   int64
	dirty       bool
}

// StreamConsumer is a consumer of a group.
type StreamConsumer struct {
	Group      []byte
	Name       []byte
	SeenTime   int64 // last attempted interaction (ms)
	ActiveTime int64 // last successful interaction (ms), -1 if none
	Pending    int64 // entries in its PEL
	dirty      bool
}

// StreamNACK is a pending entry: delivered to Consumer, not acknowledged yet.
type StreamNACK struct {
	Consumer      []byte
	DeliveryTime  int64
	DeliveryCount int64
}

const groupRecordLen = 16 + 8 + 8 + 8

func (s *Stream) groupKey(name []byte) []byte { return s.elem(streamGroup, name) }

// Group returns the group called name, nil if there is none.
func (s *Stream) Group(name []byte) (*StreamGroup, error) {
	if g := s.groups[string(name)]; g != nil {
		return g, nil
	}
	if !s.Exists() {
		return nil, nil
	}
	v, ok, err := s.get(s.groupKey(name))
	if err != nil || !ok {
		return nil, err
	}
	g, err := decodeGroup(append([]byte(nil), name...), v)
	if err != nil {
		return nil, err
	}
	s.cacheGroup(g)
	return g, nil
}

func decodeGroup(name, v []byte) (*StreamGroup, error) {
	if len(v) != groupRecordLen {
		return nil, errCorruptStream
	}
	return &StreamGroup{
		Name:        name,
		LastID:      decodeStreamID(v),
		EntriesRead: int64(binary.BigEndian.Uint64(v[16:])),
		Pending:     int64(binary.BigEndian.Uint64(v[24:])),
		Consumers:   int64(binary.BigEndian.Uint64(v[32:])),
	}, nil
}

func (s *Stream) cacheGroup(g *StreamGroup) {
	if s.groups == nil {
		s.groups = map[string]*StreamGroup{}
	}
	s.groups[string(g.Name)] = g
}

func (s *Stream) writeGroup(g *StreamGroup) error {
	v := g.LastID.AppendKey(make([]byte, 0, groupRecordLen))
	v = binary.BigEndian.AppendUint64(v, uint64(g.EntriesRead))
	v = binary.BigEndian.AppendUint64(v, uint64(g.Pending))
	v = binary.BigEndian.AppendUint64(v, uint64(g.Consumers))
	g.dirty = false
	return s.tx.w.Set(s.groupKey(g.Name), v, nil)
}

// MarkGroup records that g's fields changed.
func (s *Stream) MarkGroup(g *StreamGroup) {
	g.dirty = true
	s.dirty = true
}

// CreateGroup adds a group; it returns nil if one of that name exists.
func (s *Stream) CreateGroup(name []byte, last StreamID, entriesRead int64) (*StreamGroup, error) {
	if g, err := s.Group(name); g != nil || err != nil {
		return nil, err
	}
	g := &StreamGroup{Name: append([]byte(nil), name...), LastID: last, EntriesRead: entriesRead}
	s.cacheGroup(g)
	s.MarkGroup(g)
	s.st.groups++
	return g, nil
}

// DestroyGroup removes a group with its consumers and PEL, reporting whether it existed.
func (s *Stream) DestroyGroup(name []byte) (bool, error) {
	g, err := s.Group(name)
	if err != nil || g == nil {
		return false, err
	}
	lp := lenPrefixed(name)
	for _, kind := range []byte{streamConsumer, streamPEL, streamCPEL} {
		p := s.prefix(kind, lp)
		if err := s.tx.w.DeleteRange(p, PrefixEnd(p), nil); err != nil {
			return false, err
		}
	}
	if err := s.tx.w.Delete(s.groupKey(name), nil); err != nil {
		return false, err
	}
	delete(s.groups, string(name))
	for k, c := range s.members {
		if string(c.Group) == string(name) {
			delete(s.members, k)
		}
	}
	s.st.groups--
	s.dirty = true
	return true, nil
}

// Groups visits every group in name order.
func (s *Stream) Groups(fn func(g *StreamGroup) bool) error {
	if !s.Exists() {
		return nil
	}
	p := s.prefix(streamGroup)
	var names [][]byte
	err := s.scan(p, PrefixEnd(p), len(p), false, func(k, _ []byte) (bool, error) {
		names = append(names, append([]byte(nil), k...))
		return true, nil
	})
	if err != nil {
		return err
	}
	for _, n := range names {
		g, err := s.Group(n)
		if err != nil {
			return err
		}
		if g != nil && !fn(g) {
			break
		}
	}
	return nil
}

func (s *Stream) allGroups() ([]*StreamGroup, error) {
	var out []*StreamGroup
	err := s.Groups(func(g *StreamGroup) bool { out = append(out, g); return true })
	return out, err
}

func memberKey(group, name []byte) string { return string(lenPrefixed(group)) + string(name) }

func (s *Stream) consumerKey(group, name []byte) []byte {
	return s.elem(streamConsumer, lenPrefixed(group), name)
}

// Consumer returns the consumer called name in g, nil if there is none.
func (s *Stream) Consumer(g *StreamGroup, name []byte) (*StreamConsumer, error) {
	if c := s.members[memberKey(g.Name, name)]; c != nil {
		return c, nil
	}
	v, ok, err := s.get(s.consumerKey(g.Name, name))
	if err != nil || !ok {
		return nil, err
	}
	c, err := decodeConsumer(g.Name, append([]byte(nil), name...), v)
	if err != nil {
		return nil, err
	}
	s.cacheConsumer(c)
	return c, nil
}

func decodeConsumer(group, name, v []byte) (*StreamConsumer, error) {
	if len(v) != 24 {
		return nil, errCorruptStream
	}
	return &StreamConsumer{
		Group:      group,
		Name:       name,
		SeenTime:   int64(binary.BigEndian.Uint64(v)),
		ActiveTime: int64(binary.BigEndian.Uint64(v[8:])),
		Pending:    int64(binary.BigEndian.Uint64(v[16:])),
	}, nil
}

func (s *Stream) cacheConsumer(c *StreamConsumer) {
	if s.members == nil {
		s.members = map[string]*StreamConsumer{}
	}
	s.members[memberKey(c.Group, c.Name)] = c
}

func (s *Stream) writeConsumer(c *StreamConsumer) error {
	v := binary.BigEndian.AppendUint64(make([]byte, 0, 24), uint64(c.SeenTime))
	v = binary.BigEndian.AppendUint64(v, uint64(c.ActiveTime))
	v = binary.BigEndian.AppendUint64(v, uint64(c.Pending))
	c.dirty = false
	return s.tx.w.Set(s.consumerKey(c.Group, c.Name), v, nil)
}

// MarkConsumer records that c's fields changed.
func (s *Stream) MarkConsumer(c *StreamConsumer) {
	c.dirty = true
	s.dirty = true
}

// CreateConsumer adds a consumer to g, seen at now and never active; it returns nil if one of
// that name exists.
func (s *Stream) CreateConsumer(g *StreamGroup, name []byte, now int64) (*StreamConsumer, error) {
	if c, err := s.Consumer(g, name); c != nil || err != nil {
		return nil, err
	}
	c := &StreamConsumer{Group: g.Name, Name: append([]byte(nil), name...), SeenTime: now, ActiveTime: -1}
	s.cacheConsumer(c)
	s.MarkConsumer(c)
	g.Consumers++
	s.MarkGroup(g)
	return c, nil
}

// DeleteConsumer removes a consumer and its pending entries (from the group's PEL too). It
// returns how many entries it had pending, and whether it existed.
func (s *Stream) DeleteConsumer(g *StreamGroup, name []byte) (int64, bool, error) {
	c, err := s.Consumer(g, name)
	if err != nil || c == nil {
		return 0, false, err
	}
	var ids []StreamID
	err = s.ConsumerPending(g, name, StreamID{}, MaxStreamID, func(id StreamID) bool {
		ids = append(ids, id)
		return true
	})
	if err != nil {
		return 0, false, err
	}
	for _, id := range ids {
		if err := s.tx.w.Delete(s.pelKey(g.Name, id), nil); err != nil {
			return 0, false, err
		}
	}
	p := s.prefix(streamCPEL, lenPrefixed(g.Name), lenPrefixed(name))
	if err := s.tx.w.DeleteRange(p, PrefixEnd(p), nil); err != nil {
		return 0, false, err
	}
	if err := s.tx.w.Delete(s.consumerKey(g.Name, name), nil); err != nil {
		return 0, false, err
	}
	delete(s.members, memberKey(g.Name, name))
	g.Pending -= int64(len(ids))
	g.Consumers--
	s.MarkGroup(g)
	return int64(len(ids)), true, nil
}

// Consumers visits g's consumers in name order.
func (s *Stream) Consumers(g *StreamGroup, fn func(c *StreamConsumer) bool) error {
	p := s.prefix(streamConsumer, lenPrefixed(g.Name))
	var names [][]byte
	err := s.scan(p, PrefixEnd(p), len(p), false, func(k, _ []byte) (bool, error) {
		names = append(names, append([]byte(nil), k...))
		return true, nil
	})
	if err != nil {
		return err
	}
	for _, n := range names {
		c, err := s.Consumer(g, n)
		if err != nil {
			return err
		}
		if c != nil && !fn(c) {
			break
		}
	}
	return nil
}

func (s *Stream) pelKey(group []byte, id StreamID) []byte {
	return s.elem(streamPEL, lenPrefixed(group), idKey(id))
}

func (s *Stream) cpelKey(group, consumer []byte, id StreamID) []byte {
	return s.elem(streamCPEL, lenPrefixed(group), lenPrefixed(consumer), idKey(id))
}

func decodeNACK(v []byte) (StreamNACK, error) {
	if len(v) < 16 {
		return StreamNACK{}, errCorruptStream
	}
	return StreamNACK{
		DeliveryTime:  int64(binary.BigEndian.Uint64(v)),
		DeliveryCount: int64(binary.BigEndian.Uint64(v[8:])),
		Consumer:      v[16:],
	}, nil
}

// PendingEntry reads id's entry in g's PEL.
func (s *Stream) PendingEntry(g *StreamGroup, id StreamID) (StreamNACK, bool, error) {
	v, ok, err := s.get(s.pelKey(g.Name, id))
	if err != nil || !ok {
		return StreamNACK{}, false, err
	}
	n, err := decodeNACK(v)
	return n, err == nil, err
}

// SetPending records id as pending in g for to, delivered at time with count deliveries. prev is
// its current PEL entry (nil if it has none): the entry moves from prev's consumer to to.
func (s *Stream) SetPending(g *StreamGroup, id StreamID, prev *StreamNACK, to *StreamConsumer, time, count int64) error {
	switch {
	case prev == nil:
		g.Pending++
		s.MarkGroup(g)
	case string(prev.Consumer) != string(to.Name):
		if err := s.unown(g, prev.Consumer, id); err != nil {
			return err
		}
	}
	if prev == nil || string(prev.Consumer) != string(to.Name) {
		if err := s.tx.w.Set(s.cpelKey(g.Name, to.Name, id), nil, nil); err != nil {
			return err
		}
		to.Pending++
		s.MarkConsumer(to)
	}
	v := binary.BigEndian.AppendUint64(s.vbuf[:0], uint64(time))
	v = binary.BigEndian.AppendUint64(v, uint64(count))
	s.vbuf = append(v, to.Name...)
	return s.tx.w.Set(s.pelKey(g.Name, id), s.vbuf, nil)
}

// unown removes id from the PEL of consumer name.
func (s *Stream) unown(g *StreamGroup, name []byte, id StreamID) error {
	if err := s.tx.w.Delete(s.cpelKey(g.Name, name, id), nil); err != nil {
		return err
	}
	c, err := s.Consumer(g, name)
	if err != nil {
		return err
	}
	if c != nil {
		c.Pending--
		s.MarkConsumer(c)
	}
	return nil
}

// Ack removes id from g's PEL and its consumer's, reporting whether it was pending.
func (s *Stream) Ack(g *StreamGroup, id StreamID) (bool, error) {
	n, ok, err := s.PendingEntry(g, id)
	if err != nil || !ok {
		return false, err
	}
	if err := s.unown(g, n.Consumer, id); err != nil {
		return false, err
	}
	if err := s.tx.w.Delete(s.pelKey(g.Name, id), nil); err != nil {
		return false, err
	}
	g.Pending--
	s.MarkGroup(g)
	return true, nil
}

// GroupPending visits g's PEL entries with IDs in [start, end] in ID order. The NACK's consumer
// name is valid until fn returns.
func (s *Stream) GroupPending(g *StreamGroup, start, end StreamID, fn func(id StreamID, n StreamNACK) bool) error {
	lp := lenPrefixed(g.Name)
	lo, hi := s.idBounds(streamPEL, start, end, lp)
	return s.scan(lo, hi, len(lo)-16, false, func(k, v []byte) (bool, error) {
		n, err := decodeNACK(v)
		if err != nil || len(k) != 16 {
			return false, errCorruptStream
		}
		return fn(decodeStreamID(k), n), nil
	})
}

// PendingBounds returns the smallest and largest IDs of g's PEL.
func (s *Stream) PendingBounds(g *StreamGroup) (first, last StreamID, ok bool, err error) {
	lo, hi := s.idBounds(streamPEL, StreamID{}, MaxStreamID, lenPrefixed(g.Name))
	for i, rev := range []bool{false, true} {
		err = s.scan(lo, hi, len(lo)-16, rev, func(k, _ []byte) (bool, error) {
			if len(k) != 16 {
				return false, errCorruptStream
			}
			if i == 0 {
				first = decodeStreamID(k)
			} else {
				last = decodeStreamID(k)
			}
			ok = true
			return false, nil
		})
		if err != nil || !ok {
			return
		}
	}
	return
}

// ConsumerPending visits the IDs in [start, end] of consumer name's PEL in g, in ID order.
func (s *Stream) ConsumerPending(g *StreamGroup, name []byte, start, end StreamID, fn func(id StreamID) bool) error {
	lo, hi := s.idBounds(streamCPEL, start, end, lenPrefixed(g.Name), lenPrefixed(name))
	return s.scan(lo, hi, len(lo)-16, false, func(k, _ []byte) (bool, error) {
		if len(k) != 16 {
			return false, errCorruptStream
		}
		return fn(decodeStreamID(k)), nil
	})
}

// idBounds returns the key range of IDs [start, end] under a sub-prefix.
func (s *Stream) idBounds(kind byte, start, end StreamID, parts ...[]byte) (lo, hi []byte) {
	lo = s.prefix(kind, append(parts, idKey(start))...)
	if next, ok := end.Next(); ok {
		hi = s.prefix(kind, append(parts, idKey(next))...)
	} else {
		hi = PrefixEnd(s.prefix(kind, parts...))
	}
	return lo, hi
}

// referenced reports whether a group still needs entry id, as Redis 8.2's ACKED policy asks: a
// group has not delivered it yet, or has it pending.
func (s *Stream) referenced(groups []*StreamGroup, id StreamID) (bool, error) {
	for _, g := range groups {
		if g.LastID.Less(id) {
			return true, nil
		}
	}
	for _, g := range groups {
		_, ok, err := s.PendingEntry(g, id)
		if err != nil || ok {
			return ok, err
		}
	}
	return false, nil
}

// Referenced is referenced over every group of the stream.
func (s *Stream) Referenced(id StreamID) (bool, error) {
	groups, err := s.allGroups()
	if err != nil {
		return false, err
	}
	return s.referenced(groups, id)
}

// dropRefs removes id from the PEL of every group, reporting whether any had it.
func (s *Stream) dropRefs(groups []*StreamGroup, id StreamID) (bool, error) {
	found := false
	for _, g := range groups {
		ok, err := s.Ack(g, id)
		if err != nil {
			return found, err
		}
		found = found || ok
	}
	return found, nil
}

// DropRefs is dropRefs over every group of the stream.
func (s *Stream) DropRefs(id StreamID) (bool, error) {
	groups, err := s.allGroups()
	if err != nil {
		return false, err
	}
	return s.dropRefs(groups, id)
}
