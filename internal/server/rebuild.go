package server

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/cairn-db/cairn/internal/durable"
	"github.com/cairn-db/cairn/internal/engine"
	"github.com/cairn-db/cairn/internal/replica"
	"github.com/cairn-db/cairn/internal/shard"
)

// Rebuilding a corrupted replica.
//
// A cluster node verifies its state before it starts: every record of its Raft log against its
// checksum (replica.VerifyLog), and its engine by opening it (Pebble checks its manifest and
// log). If either fails, the node cannot be trusted: its log may lack entries it told the
// leader it had, its hard state the vote it gave in a term. It must not take part under its old
// ID again — Raft's safety rests on a voter remembering its votes, and an ID is never reused —
// so it rebuilds itself from the others:
//
//  1. It writes a marker (dir/rebuild, holding its old ID) and moves its state aside to
//     dir/corrupt-<unix time>/ for the operator, and logs why.
//  2. It starts empty, asks the cluster (through a peer named in cluster-initial or
//     cluster-join) to remove its old ID, and joins as a new member.
//  3. The leader streams it a snapshot (verified on receipt) and makes it a voter once it has
//     caught up.
//
// A crash in between resumes at step 2: the marker stays until the node has its new ID.
const rebuildMarker = "rebuild"

// checkState verifies a cluster node's state and moves a corrupted one aside. Errors that are
// not corruption (a permission, a missing disk) are returned and nothing is moved.
func checkState(cfg *Config, logger *slog.Logger) error {
	raftDir := filepath.Join(cfg.Dir, "raft")
	shardsDir := filepath.Join(cfg.Dir, "shards")
	id, err := replica.VerifyLog(raftDir, nil, hostedShardIDs(cfg.Dir)...)
	var cause error
	switch {
	case errors.Is(err, replica.ErrCorrupt):
		cause = fmt.Errorf("raft log: %w", err)
	case err != nil:
		return fmt.Errorf("verify the raft log: %w", err)
	default:
		for _, sid := range hostedShardIDs(cfg.Dir) {
			sh, err := shard.Open(shard.Options{ID: sid, Dir: filepath.Join(shardsDir, strconv.FormatUint(sid, 10)), Logger: logger, BlockCacheSize: 8 << 20})
			switch {
			case err == nil:
				if err := sh.Close(); err != nil && engine.IsCorruption(err) {
					cause = fmt.Errorf("engine of shard %d: %w", sid, err)
				}
			case engine.IsCorruption(err):
				cause = fmt.Errorf("engine of shard %d: %w", sid, err)
			default:
				return err
			}
			if cause != nil {
				break
			}
		}
	}
	if cause == nil {
		return nil
	}
	if _, err := os.Stat(filepath.Join(cfg.Dir, rebuildMarker)); err == nil {
		// A rebuild was under way: what is here is the new, partial state. Keep the old ID.
		if b, err := os.ReadFile(filepath.Join(cfg.Dir, rebuildMarker)); err == nil {
			id, _ = strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
		}
	}
	if err := durable.WriteFile(vfs.Default, filepath.Join(cfg.Dir, rebuildMarker), []byte(strconv.FormatUint(id, 10)+"\n")); err != nil {
		return fmt.Errorf("state failed verification (%v), and marking it for a rebuild failed: %w", cause, err)
	}
	aside := filepath.Join(cfg.Dir, fmt.Sprintf("corrupt-%d", time.Now().Unix()))
	if err := os.MkdirAll(aside, 0o755); err != nil {
		return err
	}
	for _, d := range []string{raftDir, shardsDir, filepath.Join(cfg.Dir, "meta")} {
		if err := os.Rename(d, filepath.Join(aside, filepath.Base(d))); err != nil && !os.IsNotExist(err) {
			return fmt.Errorf("move corrupted state aside: %w", err)
		}
	}
	logger.Error("this node's state failed verification: it was moved aside and the node rebuilds itself from the cluster as a new member",
		"cause", cause, "moved_to", aside, "old_node", id)
	return nil
}

// rebuildingFrom reports whether a rebuild is under way, and the ID the node had.
func rebuildingFrom(dir string) (old uint64, ok bool) {
	b, err := os.ReadFile(filepath.Join(dir, rebuildMarker))
	if err != nil {
		return 0, false
	}
	old, _ = strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
	return old, true
}

// hostedShardIDs lists the shards with a directory under dir/shards.
func hostedShardIDs(dir string) []uint64 {
	entries, err := os.ReadDir(filepath.Join(dir, "shards"))
	if err != nil {
		return nil
	}
	var out []uint64
	for _, e := range entries {
		if id, err := strconv.ParseUint(e.Name(), 10, 64); err == nil {
			out = append(out, id)
		}
	}
	return out
}
