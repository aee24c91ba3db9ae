package cluster

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/cairn-db/cairn/internal/durable"
	"github.com/cairn-db/cairn/internal/replica"
)

// Meta is the meta group's state machine: the topology, changed only by operations its Raft
// group commits, so every member holds the same one at the same index.
//
// The state is small, and kept whole in memory and in one file, rewritten after each applied
// batch (not synced: the Raft log is the durable record, and replay after a crash rebuilds what
// the file missed).
type Meta struct {
	dir string
	fs  vfs.FS

	mu      sync.Mutex
	top     *Topology
	applied uint64
	// onChange is told of every new topology, on the apply goroutine.
	onChange func(*Topology)
	// code is the cluster version this node's binary implements (0: CodeVersion; version.go).
	code uint32
}

// MetaOp is an operation of the meta group.
type MetaOp struct {
	Op string `json:"op"`
	// init
	Topology *Topology `json:"topology,omitempty"`
	// leader
	Shard uint64 `json:"shard,omitempty"`
	Node  uint64 `json:"node,omitempty"`
	Term  uint64 `json:"term,omitempty"`
	// add-node
	Addr    string `json:"addr,omitempty"`
	BusAddr string `json:"bus,omitempty"`
	// set-replica, move-added
	Replica uint64 `json:"replica,omitempty"`
	// move-start, meta-move-start (Node is the source); slot-migrate, slot-migrated (the target shard)
	To uint64 `json:"to,omitempty"`
	// slot-migrate: the slots Start..End; slot-migrated: the slot Start (from Shard);
	// shard-split: the first slot to move (0: the middle); shard-merge: To is the shard kept
	Start int `json:"start,omitempty"`
	End   int `json:"end,omitempty"`
	// acl-setuser: the user, its rules, its definition where the cluster has none (the
	// proposing node's own default user), and the proposer's acl-pubsub-default
	User     string   `json:"user,omitempty"`
	Rules    []string `json:"rules,omitempty"`
	Base     string   `json:"base,omitempty"`
	AllChans bool     `json:"all_chans,omitempty"`
	// acl-deluser
	Names []string `json:"names,omitempty"`
	// acl-load: the whole set of users. acl-setuser and acl-deluser: the proposer's own users
	// (its default user aside), which the cluster's start from when it has none yet.
	Users map[string]string `json:"users,omitempty"`
	// cluster-version: the version the cluster advances to (version.go)
	ClusterVersion uint32 `json:"cluster_version,omitempty"`
}

// MetaResult is what a meta operation answers.
type MetaResult struct {
	Err  string `json:"err,omitempty"`
	Node *Node  `json:"node,omitempty"`
	// Count is how many users acl-deluser deleted.
	Count int `json:"count,omitempty"`
	// UsersVersion is the topology's UsersVersion after an ACL operation.
	UsersVersion uint64 `json:"users_version,omitempty"`
	// Shard is the shard shard-create and shard-split created, or shard-merge merged into.
	Shard uint64 `json:"shard,omitempty"`
}

const metaFile = "meta.json"

type metaState struct {
	Applied  uint64    `json:"applied"`
	Topology *Topology `json:"topology"`
}

// OpenMeta opens the meta state kept in dir (created if missing).
func OpenMeta(dir string, fs vfs.FS, onChange func(*Topology)) (*Meta, error) {
	if fs == nil {
		fs = vfs.Default
	}
	if err := durable.MkdirAll(fs, dir); err != nil {
		return nil, err
	}
	m := &Meta{dir: dir, fs: fs, onChange: onChange}
	st, err := readMetaState(fs, fs.PathJoin(dir, metaFile))
	if err != nil {
		return nil, err
	}
	m.top, m.applied = st.Topology, st.Applied
	return m, nil
}

func readMetaState(fs vfs.FS, path string) (metaState, error) {
	f, err := fs.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return metaState{}, nil
	}
	if err != nil {
		return metaState{}, err
	}
	defer f.Close()
	var st metaState
	if err := json.NewDecoder(f).Decode(&st); err != nil {
		return metaState{}, fmt.Errorf("meta state %s: %w", path, err)
	}
	return st, nil
}

// Applied is the index of the last entry the state holds.
func (m *Meta) Applied() uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.applied
}

// Topology is the current topology (nil before the cluster is initialized).
func (m *Meta) Topology() *Topology {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.top
}

// Apply implements replica.StateMachine.
func (m *Meta) Apply(entries []replica.Entry, results [][]byte) error {
	m.mu.Lock()
	changed := false
	// One copy of the topology for the whole batch: the published one is never changed.
	var work *Topology
	for i, e := range entries {
		if e.Data == nil {
			continue
		}
		var op MetaOp
		var res MetaResult
		if err := json.Unmarshal(e.Data, &op); err != nil {
			res.Err = "malformed meta operation"
		} else {
			if work == nil && m.top != nil {
				work = m.top.Clone()
			}
			c, err := m.applyOp(&op, &res, &work)
			changed = changed || c
			if errors.Is(err, ErrBinaryTooOld) {
				m.mu.Unlock()
				return err // this node cannot apply what follows: stop (version.go)
			}
			if err != nil {
				res.Err = err.Error()
			}
		}
		results[i], _ = json.Marshal(res)
	}
	if changed {
		m.top = work
	}
	m.applied = entries[len(entries)-1].Index
	top := m.top
	err := m.save()
	m.mu.Unlock()
	if changed && m.onChange != nil && top != nil {
		m.onChange(top)
	}
	return err
}

// applyOp applies one operation to the batch's copy of the topology, *work (nil before the
// cluster is founded); m.mu is held.
func (m *Meta) applyOp(op *MetaOp, res *MetaResult, work **Topology) (bool, error) {
	if op.Op == "init" {
		if *work != nil || op.Topology == nil {
			return false, nil // founded already: the first init wins
		}
		*work = op.Topology.Clone()
		return true, nil
	}
	t := *work
	if t == nil {
		return false, errors.New("the cluster is not initialized yet")
	}
	if err := t.CheckOp(op.Op); err != nil {
		return false, err
	}
	switch op.Op {
	case "cluster-version":
		changed, err := applyVersionOp(t, op, m.codeVersion())
		if !changed || err != nil {
			return false, err
		}
	case "leader":
		sh := t.Shard(op.Shard)
		if sh == nil {
			return false, fmt.Errorf("no shard %d", op.Shard)
		}
		if op.Term < sh.LeaderTerm || (op.Term == sh.LeaderTerm && op.Node == sh.Leader) {
			return false, nil
		}
		sh.Leader, sh.LeaderTerm = op.Node, op.Term
	case "add-node":
		for _, n := range t.Nodes {
			if !n.Removed && n.Addr == op.Addr {
				res.Node = n
				return false, nil // joining again is answered, not repeated
			}
		}
		n := &Node{ID: t.NextNode, Addr: op.Addr, BusAddr: op.BusAddr}
		t.NextNode++
		t.Nodes[n.ID] = n
		res.Node = n
	case "remove-node":
		n := t.Nodes[op.Node]
		if n == nil || n.Removed {
			return false, fmt.Errorf("no node %d", op.Node)
		}
		if held := t.ShardsOf(op.Node); len(held) > 0 {
			return false, fmt.Errorf("node %d holds replicas of %d shards; they must move first", op.Node, len(held))
		}
		if t.IsMeta(op.Node) {
			return false, fmt.Errorf("node %d holds the meta group", op.Node)
		}
		n.Removed = true
	case "set-replica":
		// A shard's replica on a node now has another ID: it was replaced (rebuilt after its
		// state was lost) through the shard's own group.
		sh := t.Group(op.Shard)
		if sh == nil {
			return false, fmt.Errorf("no shard %d", op.Shard)
		}
		found := false
		for i := range sh.Replicas {
			if sh.Replicas[i].Node == op.Node {
				if sh.Replicas[i].ID == op.Replica {
					return false, nil
				}
				sh.Replicas[i].ID = op.Replica
				found = true
			}
		}
		if !found {
			return false, fmt.Errorf("shard %d has no replica on node %d", op.Shard, op.Node)
		}
	case "drain":
		n := t.Nodes[op.Node]
		if n == nil || n.Removed {
			return false, fmt.Errorf("no node %d", op.Node)
		}
		if n.Draining {
			return false, nil
		}
		n.Draining = true
	case "move-start", "move-added", "move-done", "move-cancel", "set-preferred":
		sh := t.Shard(op.Shard)
		if sh == nil {
			return false, fmt.Errorf("no shard %d", op.Shard)
		}
		changed, err := applyMoveOp(t, sh, op)
		if !changed || err != nil {
			return false, err
		}
	case "meta-move-start", "meta-move-added", "meta-move-done", "meta-move-cancel":
		changed, err := applyMetaMoveOp(t, op)
		if !changed || err != nil {
			return false, err
		}
	case "slot-migrate", "slot-migrated", "slot-migrate-cancel", "slot-migrate-cancelled":
		changed, err := applySlotOp(t, op)
		if !changed || err != nil {
			return false, err
		}
	case "shard-create", "shard-retire", "shard-split", "shard-merge":
		changed, err := applyShardOp(t, op, res)
		if !changed || err != nil {
			return false, err
		}
	case "acl-setuser", "acl-deluser", "acl-load":
		if err := applyACLOp(t, op, res); err != nil {
			return false, err
		}
	default:
		return false, fmt.Errorf("unknown meta operation %q", op.Op)
	}
	t.Version++
	return true, nil
}

// save writes the state to its file, atomically. m.mu is held.
func (m *Meta) save() error {
	b, err := json.Marshal(metaState{Applied: m.applied, Topology: m.top})
	if err != nil {
		return err
	}
	tmp := m.fs.PathJoin(m.dir, metaFile+".tmp")
	f, err := m.fs.Create(tmp, vfs.WriteCategoryUnspecified)
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return m.fs.Rename(tmp, m.fs.PathJoin(m.dir, metaFile))
}

// Reset forgets the state, after this node's replica of the meta group left the group (its
// Raft log is forgotten too): a replica the node is given later starts empty and is sent the
// state.
func (m *Meta) Reset() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.top, m.applied = nil, 0
	if err := m.fs.Remove(m.fs.PathJoin(m.dir, metaFile)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// Checkpoint implements replica.Snapshotter: the state, synced, in dir.
func (m *Meta) Checkpoint(dir string) error {
	m.mu.Lock()
	b, err := json.Marshal(metaState{Applied: m.applied, Topology: m.top})
	m.mu.Unlock()
	if err != nil {
		return err
	}
	if err := durable.MkdirAll(m.fs, dir); err != nil {
		return err
	}
	if err := durable.WriteFile(m.fs, m.fs.PathJoin(dir, metaFile), b); err != nil {
		return err
	}
	return durable.SyncDir(m.fs, dir)
}

// Restore implements replica.Snapshotter.
func (m *Meta) Restore(dir string) (uint64, error) {
	st, err := readMetaState(m.fs, m.fs.PathJoin(dir, metaFile))
	if err != nil {
		return 0, err
	}
	_ = m.fs.RemoveAll(dir)
	m.mu.Lock()
	m.top, m.applied = st.Topology, st.Applied
	err = m.save()
	top := m.top
	m.mu.Unlock()
	if m.onChange != nil && top != nil {
		m.onChange(top)
	}
	return st.Applied, err
}

// Verify checks a received snapshot before it is installed.
func (m *Meta) VerifySnapshot(dir string) error {
	_, err := readMetaState(m.fs, m.fs.PathJoin(dir, metaFile))
	return err
}
