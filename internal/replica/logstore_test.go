package replica

import (
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	pb "go.etcd.io/raft/v3/raftpb"
)

// An append that replaces a suffix of the log (a new leader overwrote entries) drops the old
// entries past its end; a plain append deletes nothing. What load reads back is the log as
// Raft has it.
func TestLogStoreSuffixReplaced(t *testing.T) {
	fs := vfs.NewMem()
	s, err := openLogStore("log", fs)
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	ents := func(from, to, term uint64) []*pb.Entry {
		var out []*pb.Entry
		for i := from; i <= to; i++ {
			out = append(out, &pb.Entry{Index: new(i), Term: new(term), Type: pb.EntryNormal.Enum(), Data: []byte{byte(i)}})
		}
		return out
	}
	stage := func(es []*pb.Entry, prevLast uint64) {
		t.Helper()
		b := s.db.NewBatch()
		defer b.Close()
		if err := s.stage(b, 7, es, nil, nil, prevLast); err != nil {
			t.Fatal(err)
		}
		if err := b.Commit(nil); err != nil {
			t.Fatal(err)
		}
	}
	check := func(want []uint64) { // term of each entry from index 1
		t.Helper()
		st, err := s.load(7)
		if err != nil {
			t.Fatal(err)
		}
		if len(st.entries) != len(want) {
			t.Fatalf("%d entries, want %d", len(st.entries), len(want))
		}
		for i, e := range st.entries {
			if e.GetIndex() != uint64(i+1) || e.GetTerm() != want[i] {
				t.Fatalf("entry %d: index %d term %d, want term %d", i+1, e.GetIndex(), e.GetTerm(), want[i])
			}
		}
	}
	stage(ents(1, 10, 1), 0)
	check([]uint64{1, 1, 1, 1, 1, 1, 1, 1, 1, 1})
	stage(ents(6, 7, 2), 10) // a new leader replaced 6..10 with 6..7
	check([]uint64{1, 1, 1, 1, 1, 2, 2})
	stage(ents(8, 9, 2), 7)
	check([]uint64{1, 1, 1, 1, 1, 2, 2, 2, 2})
}
