package replica

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
	pb "go.etcd.io/raft/v3/raftpb"
)

// Every record of the Raft log carries a checksum that is checked when it is read: a corrupted
// entry, hard state, snapshot record or membership table, or a gap in the entries, is reported
// as ErrCorrupt (by VerifyLog, and by AddShard when the node starts) and never handed to Raft.
func TestLogCorruptionDetected(t *testing.T) {
	flip := func(s *logStore, key []byte) {
		t.Helper()
		v, closer, err := s.db.Get(key)
		if err != nil {
			t.Fatalf("get %q: %v", key, err)
		}
		bad := append([]byte(nil), v...)
		closer.Close()
		bad[len(bad)-1] ^= 0x40
		if err := s.db.Set(key, bad, pebble.Sync); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		name    string
		corrupt func(s *logStore)
	}{
		{"entry", func(s *logStore) { flip(s, entryKey(1, 5)) }},
		{"entry cut short", func(s *logStore) { _ = s.db.Set(entryKey(1, 6), []byte{1, 2}, pebble.Sync) }},
		{"hard state", func(s *logStore) { flip(s, shardKey('h', 1)) }},
		{"snapshot record", func(s *logStore) { flip(s, shardKey('s', 1)) }},
		{"membership", func(s *logStore) { flip(s, shardKey('m', 1)) }},
		{"gap in the entries", func(s *logStore) { _ = s.db.Delete(entryKey(1, 7), pebble.Sync) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newTestCluster(t, 3, nil)
			for range 12 {
				c.write("incr n")
			}
			nd := c.nodes[1]
			c.waitValue(nd.id, "n", "12")
			c.stop(nd.id, false)
			if _, err := VerifyLog(nd.dir, nil, 1); err != nil {
				t.Fatalf("VerifyLog of an intact log: %v", err)
			}
			s, err := openLogStore(filepath.Join(nd.dir, "log"), vfs.Default)
			if err != nil {
				t.Fatal(err)
			}
			tc.corrupt(s)
			s.close()

			id, err := VerifyLog(nd.dir, nil, 1)
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("VerifyLog = %v, want ErrCorrupt", err)
			}
			if id != nd.id {
				t.Fatalf("VerifyLog read node ID %d, want %d", id, nd.id)
			}
			cfg := c.cfg
			cfg.Dir, cfg.Network = nd.dir, c.net.end(nd.id)
			h, err := OpenHost(cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer h.Close()
			if _, err := h.AddShard(1, newKV(), ShardOptions{}); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("AddShard over a corrupt log = %v, want ErrCorrupt", err)
			}
		})
	}
}

// refusingSM refuses every snapshot as failing verification.
type refusingSM struct{ *kvSM }

func (refusingSM) VerifySnapshot(dir string) error {
	return fmt.Errorf("checksum mismatch in %s", dir)
}

// A snapshot whose verification fails is refused at once (the stream reports the error to the
// leader) and never reaches the state machine.
func TestSnapshotVerifiedWhenReceived(t *testing.T) {
	dir := t.TempDir()
	net := newMemNet()
	h, err := OpenHost(HostConfig{Dir: dir, Network: net.end(1), Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if err := h.SetNodeID(1); err != nil {
		t.Fatal(err)
	}
	sm := refusingSM{newKV()}
	r, err := h.AddShard(1, sm, ShardOptions{Bootstrap: []Member{{ID: 1, Addr: "node1"}, {ID: 2, Addr: "node2"}}})
	if err != nil {
		t.Fatal(err)
	}
	in := filepath.Join(h.SnapshotInbox(), "from-2")
	if err := os.MkdirAll(in, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(in, "kv.json"), []byte(`{"Data":{"n":"99"},"Applied":50}`), 0o644); err != nil {
		t.Fatal(err)
	}
	msg := &pb.Message{Type: pb.MsgSnap.Enum(), From: new(uint64(2)), To: new(uint64(1)), Term: new(uint64(2)),
		Snapshot: &pb.Snapshot{Metadata: &pb.SnapshotMetadata{Index: new(uint64(50)), Term: new(uint64(2)), ConfState: &pb.ConfState{Voters: []uint64{1, 2}}}}}
	header, err := encodeSnapshotHeader(1, msg)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.ReceiveSnapshot(2, header, in); err == nil {
		t.Fatal("a snapshot failing verification was accepted")
	}
	r.mu.Lock()
	queued := len(r.incoming) + len(r.inbox)
	r.mu.Unlock()
	if queued != 0 {
		t.Fatalf("the refused snapshot was queued for Raft (%d)", queued)
	}
	if got := sm.get("n"); got != "" {
		t.Fatalf("the refused snapshot reached the state machine: n = %q", got)
	}
}
