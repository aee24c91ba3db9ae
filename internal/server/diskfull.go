package server

import (
	"fmt"
	"sync/atomic"

	"github.com/cairn-db/cairn/internal/replica"
)

// A full disk refuses writes at once and serves reads, and writes resume by themselves when
// space returns. The disk counts as full when the space free on the data directory's
// filesystem falls under min-free-disk, or when the engines' background work (memtable
// flushes, compactions) failed for want of space — which would otherwise stall writes, with
// no reply, until space returned. It counts as free again once the space free is back over
// min-free-disk by a margin, so the state does not flap. Each change is one log line, and
// INFO persistence shows the state.
//
// On a cluster node a full disk also moves leadership of its shards away: once a second while
// it lasts, the node hands each shard it leads to the most caught-up other voter on a live node
// whose disk is not full (shedLeadership), and it gossips its state so that the leader
// balancing of the other nodes does not hand the shards back (balance). Writes then go on
// through the new leaders; this node keeps its replicas, which still take the log (Raft's
// writes are not refused; min-free-disk keeps room for them a while). When space returns the
// balancing hands its preferred shards back.
//
// A failed write or sync of an engine's log is another matter: Pebble cannot go on from it,
// and the node stops (engine.ErrFailed). Keeping min-free-disk above zero keeps a filling disk
// from getting there.

// diskFullMargin is how much more than min-free-disk must be free to accept writes again.
const diskFullMargin = 16 << 20

type diskState struct {
	// full is read by every write; reason says why, for the error and INFO.
	full   atomic.Bool
	reason atomic.Pointer[string]
	// noSpace is set by an engine whose background work failed for want of space.
	noSpace atomic.Bool
	// changes counts state changes (INFO).
	changes atomic.Int64
}

// diskFullError is the error a write gets while the disk is full, like Redis's MISCONF after a
// failed save.
func (s *Server) diskFullError() string {
	why := "no space left on device"
	if p := s.disk.reason.Load(); p != nil {
		why = *p
	}
	return "MISCONF Errors writing to disk: " + why + ". Writes are refused until space returns; reads are served. Please check the logs for details."
}

// writeRefused reports whether a write must be refused for the disk.
func (s *Server) writeRefused() bool { return s.disk.full.Load() }

// minFreeDisk is min-free-disk in bytes.
func (s *Server) minFreeDisk() uint64 {
	v, _ := s.cfg.Get("min-free-disk")
	n, _ := parseMemory(v)
	return uint64(max(n, 0))
}

// checkDisk updates the disk state from the space free and the engines' reports. It runs on
// the cron.
func (s *Server) checkDisk() {
	hs := s.allHosted()
	if len(hs) == 0 {
		return
	}
	avail, err := hs[0].sh.DiskAvail() // every shard's engine is under the data directory
	reserve := s.minFreeDisk()
	noSpace := s.disk.noSpace.Swap(false)
	full := s.disk.full.Load()
	switch {
	case !full && noSpace:
		s.enterDiskFull("no space left on device", avail)
	case !full && err == nil && avail < reserve:
		s.enterDiskFull(fmt.Sprintf("less than min-free-disk (%d bytes) free on the data directory's disk", reserve), avail)
	case full && !noSpace && err == nil && avail >= reserve+diskFullMargin:
		s.disk.full.Store(false)
		s.disk.changes.Add(1)
		s.logger.Warn("disk space is back: writes are accepted again", "free_bytes", avail)
	}
}

func (s *Server) enterDiskFull(why string, avail uint64) {
	s.disk.reason.Store(&why)
	s.disk.full.Store(true)
	s.disk.changes.Add(1)
	s.logger.Error("the disk is full: writes are refused until space returns, reads go on", "reason", why, "free_bytes", avail)
}

// diskStatus is aof_last_write_status: err while writes are refused for the disk.
func diskStatus(s *Server) string {
	if s.disk.full.Load() {
		return "err"
	}
	return "ok"
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// diskFull reports whether node's disk is full: this node's from its own state, another's from
// what it gossips.
func (c *clusterNode) diskFull(node uint64) bool {
	if node == c.id {
		return c.s.disk.full.Load()
	}
	g := c.gossip.Load()
	if g == nil {
		return false
	}
	return g.Nodes()[node].DiskFull
}

// shedLeadership hands each shard this node leads to the most caught-up other voter on a live
// node whose disk is not full; a shard with no such voter keeps its leader (and refuses writes).
func (c *clusterNode) shedLeadership() {
	for _, h := range c.s.allHosted() {
		if h.raft == nil || !h.raft.IsLeader() {
			continue
		}
		st := h.raft.Status()
		var best replica.Peer
		for _, p := range st.Peers {
			if p.ID != st.ID && p.Voter && p.Node != c.id && c.alive(p.Node) && !c.diskFull(p.Node) && (best.ID == 0 || p.Match > best.Match) {
				best = p
			}
		}
		if best.ID != 0 {
			c.logger.Debug("disk full: handing leadership away", "shard", h.id(), "to_node", best.Node)
			h.raft.TransferLeader(best.ID)
		}
	}
}
