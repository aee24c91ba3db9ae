package keyspace

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/cairn-db/cairn/internal/slot"
)

// streamModel is what a stream should hold.
type streamModel struct {
	entries []StreamID // in order
	values  map[StreamID]string
	last    StreamID
	// pel[group][id] = consumer
	pel  map[string]map[StreamID]string
	cons map[string]map[string]bool
	pos  map[string]StreamID // each group's last delivered ID
}

func (m *streamModel) has(id StreamID) bool { _, ok := m.values[id]; return ok }

func (m *streamModel) remove(id StreamID) {
	i := slices.Index(m.entries, id)
	m.entries = slices.Delete(m.entries, i, i+1)
	delete(m.values, id)
}

// TestStreamLayout checks the records a stream writes: entries, group, consumer and both PEL
// records under the stream's version, and that deleting the key drops them all.
func TestStreamLayout(t *testing.T) {
	s := newCollStore(t)
	key := []byte("s")
	s.write(1000, func(tx *Tx) {
		st, err := tx.OpenStream(key)
		must(t, err)
		st.Create()
		must(t, st.Append(StreamID{1, 0}, [][]byte{[]byte("f"), []byte("v")}))
		must(t, st.Append(StreamID{2, 5}, [][]byte{[]byte("a"), []byte("1"), []byte("b"), []byte("2")}))
		g, err := st.CreateGroup([]byte("grp"), StreamID{}, -1)
		must(t, err)
		c, err := st.CreateConsumer(g, []byte("alice"), 1000)
		must(t, err)
		must(t, st.SetPending(g, StreamID{1, 0}, nil, c, 1000, 1))
		must(t, st.Save())
	})
	prefix := ElemPrefix(nil, 0, VersionOf(slot.KeySlot(key), 1))
	var kinds []string
	for _, k := range s.keys(prefix) {
		kinds = append(kinds, fmt.Sprintf("%c%d", k[len(prefix)], len(k)-len(prefix)-1))
	}
	// entries: 16-byte IDs; group: its name; consumer: len(group)+group+name; PELs: with the ID.
	want := []string{"c12", "e16", "e16", "g3", "p23", "q32"}
	if !slices.Equal(kinds, want) {
		t.Fatalf("records = %v, want %v", kinds, want)
	}
	s.read(1000, func(tx *Tx) {
		st, err := tx.OpenStream(key)
		must(t, err)
		v, ok, err := st.Get(StreamID{2, 5})
		must(t, err)
		var fields []string
		n, err := StreamFields(v, func(b []byte) { fields = append(fields, string(b)) })
		must(t, err)
		if !ok || n != 2 || !slices.Equal(fields, []string{"a", "1", "b", "2"}) {
			t.Fatalf("Get = %v %d %v", ok, n, fields)
		}
		if st.Len() != 2 || st.LastID() != (StreamID{2, 5}) || st.FirstID() != (StreamID{1, 0}) || st.GroupCount() != 1 {
			t.Fatalf("state = %d %v %v %d", st.Len(), st.LastID(), st.FirstID(), st.GroupCount())
		}
	})
	s.write(1000, func(tx *Tx) {
		_, err := tx.DeleteKey(key)
		must(t, err)
	})
	if left := s.keys(prefix); len(left) != 0 {
		t.Fatalf("records left after DEL: %q", left)
	}
}

// TestStreamAgainstModel runs random appends, deletions, trims and PEL changes against a stream
// and a model, checking after each step the entries, the counters and every group's and
// consumer's PEL records.
func TestStreamAgainstModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(testSeed(t), 0))
	s := newCollStore(t)
	key := []byte("s")
	m := &streamModel{values: map[StreamID]string{}, pel: map[string]map[StreamID]string{}, cons: map[string]map[string]bool{}, pos: map[string]StreamID{}}
	groups := []string{"g1", "g2"}
	names := []string{"a", "b", "c"}
	s.write(0, func(tx *Tx) {
		st, err := tx.OpenStream(key)
		must(t, err)
		st.Create()
		for _, g := range groups {
			_, err := st.CreateGroup([]byte(g), StreamID{}, -1)
			must(t, err)
			m.pel[g], m.cons[g] = map[StreamID]string{}, map[string]bool{}
		}
		must(t, st.Save())
	})
	for step := 0; step < 1500; step++ {
		op := rng.IntN(10)
		s.write(int64(step), func(tx *Tx) {
			st, err := tx.OpenStream(key)
			must(t, err)
			switch {
			case op < 4: // append
				id := StreamID{m.last.Ms + uint64(rng.IntN(3)), 0}
				if !m.last.Less(id) {
					id = StreamID{m.last.Ms, m.last.Seq + 1}
				}
				v := fmt.Sprint(step)
				must(t, st.Append(id, [][]byte{[]byte("f"), []byte(v)}))
				m.entries = append(m.entries, id)
				m.values[id], m.last = v, id
			case op < 6 && len(m.entries) > 0: // deliver an entry to a consumer
				id := m.entries[rng.IntN(len(m.entries))]
				g, err := st.Group([]byte(groups[rng.IntN(2)]))
				must(t, err)
				name := names[rng.IntN(3)]
				c, err := st.Consumer(g, []byte(name))
				must(t, err)
				if c == nil {
					c, err = st.CreateConsumer(g, []byte(name), 0)
					must(t, err)
					m.cons[string(g.Name)][name] = true
				}
				prev, ok, err := st.PendingEntry(g, id)
				must(t, err)
				var p *StreamNACK
				if ok {
					p = &prev
				}
				must(t, st.SetPending(g, id, p, c, int64(step), 1))
				m.pel[string(g.Name)][id] = name
				if g.LastID.Less(id) {
					g.LastID = id
					st.MarkGroup(g)
					m.pos[string(g.Name)] = id
				}
			case op < 7: // ack a pending entry
				gname := groups[rng.IntN(2)]
				for id := range m.pel[gname] {
					g, err := st.Group([]byte(gname))
					must(t, err)
					done, err := st.Ack(g, id)
					must(t, err)
					if !done {
						t.Fatalf("step %d: Ack(%v) found nothing", step, id)
					}
					delete(m.pel[gname], id)
					break
				}
			case op < 8 && len(m.entries) > 0: // XDEL
				id := m.entries[rng.IntN(len(m.entries))]
				done, err := st.Delete(id)
				must(t, err)
				if !done {
					t.Fatalf("step %d: Delete(%v) found nothing", step, id)
				}
				m.remove(id)
			case op < 9: // trim
				tr := Trim{MaxLen: int64(rng.IntN(20)), Policy: RefPolicy(rng.IntN(3))}
				if rng.IntN(2) == 0 {
					tr.MaxLen, tr.MinID = -1, StreamID{m.last.Ms - min(m.last.Ms, uint64(rng.IntN(10))), 0}
				}
				n, err := st.Trim(tr)
				must(t, err)
				want := modelTrim(m, tr, groups)
				if n != want {
					t.Fatalf("step %d: Trim(%+v) = %d, want %d", step, tr, n, want)
				}
			default: // delete a consumer
				gname, name := groups[rng.IntN(2)], names[rng.IntN(3)]
				g, err := st.Group([]byte(gname))
				must(t, err)
				pending, existed, err := st.DeleteConsumer(g, []byte(name))
				must(t, err)
				want := int64(0)
				for id, c := range m.pel[gname] {
					if c == name {
						want++
						delete(m.pel[gname], id)
					}
				}
				if existed != m.cons[gname][name] || pending != want {
					t.Fatalf("step %d: DeleteConsumer = %d %v, want %d %v", step, pending, existed, want, m.cons[gname][name])
				}
				delete(m.cons[gname], name)
			}
			must(t, st.Save())
		})
		checkStream(t, s, key, m, groups, step)
	}
}

// modelTrim applies a trim to the model and returns how many entries it removes.
func modelTrim(m *streamModel, tr Trim, groups []string) int64 {
	var removed int64
	var keep []StreamID
	for _, id := range m.entries {
		stop := (tr.MaxLen >= 0 && int64(len(m.entries))-removed <= tr.MaxLen) || (tr.MaxLen < 0 && !id.Less(tr.MinID))
		if stop {
			keep = append(keep, id)
			continue
		}
		if tr.Policy == Acked && modelReferenced(m, id, groups) {
			keep = append(keep, id)
			continue
		}
		if tr.Policy == DelRef {
			for _, g := range groups {
				delete(m.pel[g], id)
			}
		}
		delete(m.values, id)
		removed++
	}
	m.entries = keep
	return removed
}

// modelReferenced reports whether a group has not delivered id yet or has it pending.
func modelReferenced(m *streamModel, id StreamID, groups []string) bool {
	for _, g := range groups {
		if _, ok := m.pel[g][id]; ok || m.pos[g].Less(id) {
			return true
		}
	}
	return false
}

func checkStream(t *testing.T, s *collStore, key []byte, m *streamModel, groups []string, step int) {
	t.Helper()
	s.read(0, func(tx *Tx) {
		st, err := tx.OpenStream(key)
		must(t, err)
		if st.Len() != int64(len(m.entries)) {
			t.Fatalf("step %d: Len = %d, want %d", step, st.Len(), len(m.entries))
		}
		var got []StreamID
		must(t, st.Range(StreamID{}, MaxStreamID, false, func(id StreamID, v []byte) bool {
			got = append(got, id)
			var fields []string
			_, err := StreamFields(v, func(b []byte) { fields = append(fields, string(b)) })
			must(t, err)
			if fields[1] != m.values[id] {
				t.Fatalf("step %d: %v = %v, want %s", step, id, fields, m.values[id])
			}
			return true
		}))
		if !slices.Equal(got, m.entries) {
			t.Fatalf("step %d: entries = %v, want %v", step, got, m.entries)
		}
		first := StreamID{}
		if len(m.entries) > 0 {
			first = m.entries[0]
		}
		if st.FirstID() != first || st.LastID() != m.last {
			t.Fatalf("step %d: first/last = %v %v, want %v %v", step, st.FirstID(), st.LastID(), first, m.last)
		}
		for _, gname := range groups {
			g, err := st.Group([]byte(gname))
			must(t, err)
			if g.Pending != int64(len(m.pel[gname])) || g.Consumers != int64(len(m.cons[gname])) {
				t.Fatalf("step %d: group %s pending %d consumers %d, want %d %d", step, gname, g.Pending, g.Consumers, len(m.pel[gname]), len(m.cons[gname]))
			}
			n := 0
			must(t, st.GroupPending(g, StreamID{}, MaxStreamID, func(id StreamID, nack StreamNACK) bool {
				n++
				if m.pel[gname][id] != string(nack.Consumer) {
					t.Fatalf("step %d: %s PEL %v owned by %s, want %s", step, gname, id, nack.Consumer, m.pel[gname][id])
				}
				return true
			}))
			if n != len(m.pel[gname]) {
				t.Fatalf("step %d: %s PEL has %d, want %d", step, gname, n, len(m.pel[gname]))
			}
			must(t, st.Consumers(g, func(c *StreamConsumer) bool {
				var ids []StreamID
				must(t, st.ConsumerPending(g, c.Name, StreamID{}, MaxStreamID, func(id StreamID) bool {
					ids = append(ids, id)
					return true
				}))
				want := 0
				for _, owner := range m.pel[gname] {
					if owner == string(c.Name) {
						want++
					}
				}
				if len(ids) != want || c.Pending != int64(want) {
					t.Fatalf("step %d: %s/%s PEL %d records, count %d, want %d", step, gname, c.Name, len(ids), c.Pending, want)
				}
				return true
			}))
		}
	})
}

func TestStreamIDOrder(t *testing.T) {
	ids := []StreamID{{0, 1}, {0, 1 << 63}, {1, 0}, {1 << 40, 5}, MaxStreamID}
	for i := 1; i < len(ids); i++ {
		a, b := ids[i-1].AppendKey(nil), ids[i].AppendKey(nil)
		if bytes.Compare(a, b) >= 0 || !ids[i-1].Less(ids[i]) {
			t.Fatalf("%v and %v out of order", ids[i-1], ids[i])
		}
		if next, ok := ids[i-1].Next(); !ok || ids[i].Less(next) {
			t.Fatalf("Next(%v) = %v", ids[i-1], next)
		}
	}
	if _, ok := MaxStreamID.Next(); ok {
		t.Fatal("Next of the largest ID")
	}
	if _, ok := (StreamID{}).Prev(); ok {
		t.Fatal("Prev of 0-0")
	}
	if p, _ := (StreamID{2, 0}).Prev(); p != (StreamID{1, 1<<64 - 1}) {
		t.Fatalf("Prev(2-0) = %v", p)
	}
}
