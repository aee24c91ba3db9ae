package replica

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"os"
	"path/filepath"

	crerrors "github.com/cockroachdb/errors"
	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
	pb "go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
)

// logStore is the durable Raft log of every shard on a node, in one Pebble instance of its own
// under dir/raft.
//
// Why Pebble, and why a separate instance from the shards' engines: a Raft log is appended at
// the tail, truncated at the head and occasionally overwritten at the tail — exactly what an LSM
// does cheaply with sequential WAL writes, point sets and range deletions. One instance for all
// shards lets one batch with one fsync make every shard's entries and hard state of a round
// durable together, which is the node-wide group commit the scheduler relies on. Keeping it apart
// from the state machines lets those run without syncing (the log is the durable record) and
// keeps log churn out of their compactions and checkpoints.
//
// Every value carries a CRC-32C of its contents, verified when it is read back, so a torn or
// corrupted record is reported instead of being handed to Raft.
//
// Keys (integers big-endian):
//
//	'n' name          node metadata (the node's ID)
//	'e' shard index   an entry: crc(4) term(8) type(1) data
//	'h' shard         hard state: crc(4) term(8) vote(8) commit(8)
//	's' shard         latest snapshot (metadata, members): crc(4) protobuf
//	'm' shard         membership table: crc(4) encoded members
//	'r' shard         this node's replica ID in the shard: crc(4) id(8)
type logStore struct {
	db *pebble.DB
}

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// errCorruptLog reports a record whose checksum does not match.
var errCorruptLog = errors.New("replica: corrupt raft log record")

// ErrCorrupt is wrapped by the error of reading a Raft log whose records fail their checksums
// (or whose entries have a gap): the node's Raft state cannot be trusted, and the node must be
// rebuilt from the others.
var ErrCorrupt = errCorruptLog

func openLogStore(dir string, fs vfs.FS) (*logStore, error) {
	opts := &pebble.Options{FS: fs, MemTableSize: 16 << 20, Logger: quietPebble{}}
	opts.EnsureDefaults()
	db, err := pebble.Open(dir, opts)
	if err != nil {
		return nil, fmt.Errorf("open raft log in %s: %w", dir, err)
	}
	return &logStore{db: db}, nil
}

func (s *logStore) close() error { return s.db.Close() }

func entryKey(shard, index uint64) []byte {
	k := make([]byte, 17)
	k[0] = 'e'
	binary.BigEndian.PutUint64(k[1:], shard)
	binary.BigEndian.PutUint64(k[9:], index)
	return k
}

func shardKey(kind byte, shard uint64) []byte {
	k := make([]byte, 9)
	k[0] = kind
	binary.BigEndian.PutUint64(k[1:], shard)
	return k
}

func seal(body []byte) []byte {
	out := make([]byte, 4, 4+len(body))
	binary.BigEndian.PutUint32(out, crc32.Checksum(body, crcTable))
	return append(out, body...)
}

func unseal(v []byte) ([]byte, error) {
	if len(v) < 4 || binary.BigEndian.Uint32(v) != crc32.Checksum(v[4:], crcTable) {
		return nil, errCorruptLog
	}
	return v[4:], nil
}

func encodeEntry(e *pb.Entry) []byte {
	body := make([]byte, 4, 4+9+len(e.Data))
	body = binary.BigEndian.AppendUint64(body, e.GetTerm())
	body = append(body, byte(e.GetType()))
	body = append(body, e.Data...)
	binary.BigEndian.PutUint32(body, crc32.Checksum(body[4:], crcTable))
	return body
}

func decodeEntry(index uint64, v []byte) (*pb.Entry, error) {
	body, err := unseal(v)
	if err != nil || len(body) < 9 {
		return nil, fmt.Errorf("entry %d: %w", index, errCorruptLog)
	}
	data := append([]byte(nil), body[9:]...)
	return &pb.Entry{Index: new(index), Term: new(binary.BigEndian.Uint64(body)), Type: pb.EntryType(body[8]).Enum(), Data: data}, nil
}

// stage adds a round's changes for one shard to b: entries (dropping any later ones a leader
// overwrote), the hard state and a snapshot. prevLast is the last index the log held before
// this round: entries past the new last one exist only when an append replaced a suffix, and
// only then is there anything to delete. (A range deletion on every append would pile up in
// the memtable, and every read of the log would wade through them.)
func (s *logStore) stage(b *pebble.Batch, shard uint64, ents []*pb.Entry, hs *pb.HardState, snap *pb.Snapshot, prevLast uint64) error {
	if snap != nil {
		data, err := proto.Marshal(snap)
		if err != nil {
			return err
		}
		if err := b.Set(shardKey('s', shard), seal(data), nil); err != nil {
			return err
		}
		// Everything up to the snapshot is covered by it.
		if err := b.DeleteRange(entryKey(shard, 0), entryKey(shard, snap.GetMetadata().GetIndex()+1), nil); err != nil {
			return err
		}
	}
	for _, e := range ents {
		if err := b.Set(entryKey(shard, e.GetIndex()), encodeEntry(e), nil); err != nil {
			return err
		}
	}
	if len(ents) > 0 {
		if last := ents[len(ents)-1].GetIndex(); last < prevLast || snap != nil {
			if err := b.DeleteRange(entryKey(shard, last+1), entryKey(shard, math.MaxUint64), nil); err != nil {
				return err
			}
		}
	}
	if hs != nil {
		var body [24]byte
		binary.BigEndian.PutUint64(body[0:], hs.GetTerm())
		binary.BigEndian.PutUint64(body[8:], hs.GetVote())
		binary.BigEndian.PutUint64(body[16:], hs.GetCommit())
		if err := b.Set(shardKey('h', shard), seal(body[:]), nil); err != nil {
			return err
		}
	}
	return nil
}

// replicaID reads this node's replica ID in shard; 0 if it has none yet.
func (s *logStore) replicaID(shard uint64) (uint64, error) {
	v, closer, err := s.db.Get(shardKey('r', shard))
	if errors.Is(err, pebble.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	defer closer.Close()
	body, err := unseal(v)
	if err != nil || len(body) != 8 {
		return 0, fmt.Errorf("replica ID of shard %d: %w", shard, errCorruptLog)
	}
	return binary.BigEndian.Uint64(body), nil
}

// setReplicaID records this node's replica ID in shard durably.
func (s *logStore) setReplicaID(shard, id uint64) error {
	return s.db.Set(shardKey('r', shard), seal(binary.BigEndian.AppendUint64(nil, id)), pebble.Sync)
}

// compact drops the entries of shard below index.
func (s *logStore) compact(shard, index uint64) error {
	return s.db.DeleteRange(entryKey(shard, 0), entryKey(shard, index), pebble.NoSync)
}

// forget deletes every record of shard, durably.
func (s *logStore) forget(shard uint64) error {
	b := s.db.NewBatch()
	defer b.Close()
	if err := b.DeleteRange(entryKey(shard, 0), entryKey(shard, math.MaxUint64), nil); err != nil {
		return err
	}
	for _, kind := range []byte{'h', 's', 'm', 'r'} {
		if err := b.Delete(shardKey(kind, shard), nil); err != nil {
			return err
		}
	}
	return b.Commit(pebble.Sync)
}

// shardState is what the store holds for a shard.
type shardState struct {
	hard    *pb.HardState
	snap    *pb.Snapshot
	entries []*pb.Entry
	members []byte
}

// load reads a shard's state, verifying every checksum. Entries at or below the snapshot are
// skipped: the snapshot stands for them.
func (s *logStore) load(shard uint64) (*shardState, error) {
	st := &shardState{}
	if v, closer, err := s.db.Get(shardKey('h', shard)); err == nil {
		body, err := unseal(v)
		if err != nil || len(body) != 24 {
			closer.Close()
			return nil, fmt.Errorf("hard state: %w", errCorruptLog)
		}
		st.hard = &pb.HardState{Term: new(binary.BigEndian.Uint64(body)), Vote: new(binary.BigEndian.Uint64(body[8:])), Commit: new(binary.BigEndian.Uint64(body[16:]))}
		closer.Close()
	} else if !errors.Is(err, pebble.ErrNotFound) {
		return nil, err
	}
	if v, closer, err := s.db.Get(shardKey('s', shard)); err == nil {
		body, err := unseal(v)
		if err != nil {
			closer.Close()
			return nil, fmt.Errorf("snapshot: %w", err)
		}
		st.snap = &pb.Snapshot{}
		err = proto.Unmarshal(body, st.snap)
		closer.Close()
		if err != nil {
			return nil, fmt.Errorf("snapshot: %w", err)
		}
	} else if !errors.Is(err, pebble.ErrNotFound) {
		return nil, err
	}
	if v, closer, err := s.db.Get(shardKey('m', shard)); err == nil {
		body, err := unseal(v)
		if err != nil {
			closer.Close()
			return nil, fmt.Errorf("members: %w", err)
		}
		st.members = append([]byte(nil), body...)
		closer.Close()
	} else if !errors.Is(err, pebble.ErrNotFound) {
		return nil, err
	}
	from := st.snap.GetMetadata().GetIndex() + 1
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: entryKey(shard, from), UpperBound: entryKey(shard, math.MaxUint64)})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	next := from
	for ok := it.First(); ok; ok = it.Next() {
		index := binary.BigEndian.Uint64(it.Key()[9:])
		if index != next && len(st.entries) > 0 {
			return nil, fmt.Errorf("raft log of shard %d has a gap at %d: %w", shard, next, errCorruptLog)
		}
		v, err := it.ValueAndErr()
		if err != nil {
			return nil, err
		}
		e, err := decodeEntry(index, v)
		if err != nil {
			return nil, err
		}
		st.entries = append(st.entries, e)
		next = index + 1
	}
	return st, it.Error()
}

func (s *logStore) setMeta(b *pebble.Batch, name string, value []byte) error {
	return b.Set(append([]byte{'n'}, name...), seal(value), nil)
}

// meta reads a node metadata value; nil if absent.
func (s *logStore) meta(name string) ([]byte, error) {
	v, closer, err := s.db.Get(append([]byte{'n'}, name...))
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer closer.Close()
	body, err := unseal(v)
	if err != nil {
		return nil, fmt.Errorf("node %s: %w", name, err)
	}
	return append([]byte(nil), body...), nil
}

type quietPebble struct{}

func (quietPebble) Infof(string, ...any)  {}
func (quietPebble) Errorf(string, ...any) {}

// Fatalf is how Pebble reports an error it cannot go on from: a failed write or sync of its
// write-ahead log. The scheduler turns the panic into ErrStorage (Host.step).
func (quietPebble) Fatalf(format string, args ...any) {
	panic(storageFatal{fmt.Sprintf(format, args...)})
}

type storageFatal struct{ msg string }

// ErrStorage is wrapped by the error a host stops with when the disk under its log failed.
// Pebble cannot go on from a failed write or sync of its log (it may hold entries in memory
// that never reached the disk), so neither can the node: it stops, and what it acknowledged
// before is on disk.
var ErrStorage = errors.New("replica: raft log storage failed")

// VerifyLog opens the Raft log store in dir (a HostConfig's Dir) and reads the node's ID and
// the whole state of each shard, verifying every checksum; it changes nothing. A node checks
// its log this way before it starts, so that a corrupted one is rebuilt rather than trusted.
// It returns the node's ID (0 if it has none, or if the record holding it is corrupt).
func VerifyLog(dir string, fs vfs.FS, shards ...uint64) (id uint64, err error) {
	if fs == nil {
		fs = vfs.Default
	}
	path := filepath.Join(dir, "log")
	if _, err := fs.Stat(path); errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	s, err := openLogStore(path, fs)
	if err != nil {
		if crerrors.Is(err, pebble.ErrCorruption) {
			return 0, fmt.Errorf("%w: %v", ErrCorrupt, err)
		}
		return 0, err
	}
	defer s.close()
	v, err := s.meta("id")
	if err != nil {
		return 0, err
	}
	if len(v) == 8 {
		id = binary.BigEndian.Uint64(v)
	}
	for _, shard := range shards {
		if _, err := s.load(shard); err != nil {
			if crerrors.Is(err, pebble.ErrCorruption) {
				err = fmt.Errorf("%w: %v", ErrCorrupt, err)
			}
			return id, fmt.Errorf("shard %d: %w", shard, err)
		}
	}
	return id, nil
}
