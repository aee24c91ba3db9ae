package server

import (
	"context"
	"time"

	"github.com/cairn-db/cairn/internal/cluster"
	"github.com/cairn-db/cairn/internal/command"
)

// Rolling upgrades (cluster/version.go has the rules). This node:
//
//   - runs at its code version: command.ClusterVersion, or debug-code-version, which plays an
//     older binary in tests (it can only lower it);
//   - advertises it in gossip (load), and shows it with the cluster's in CLUSTER INFO and
//     CLUSTER STATUS;
//   - stamps the operations it proposes to shards with the cluster's active version (opVersion),
//     so that a node still on the older binary applies them;
//   - refuses to start, or stops, when the cluster's version is above its code version;
//   - as the meta group's leader, advances the cluster's version once every node advertises a
//     higher one (advanceVersion).

// codeVersion is the cluster version this node's binary implements.
func (s *Server) codeVersion() uint32 {
	if v := s.cfg.DebugCodeVersion; v > 0 && v < command.ClusterVersion {
		return uint32(v)
	}
	return command.ClusterVersion
}

// opVersion is the cluster version of the operations this node proposes: the cluster's active
// version (never above this binary's), or the binary's own out of cluster mode.
func (s *Server) opVersion() uint32 {
	code := s.codeVersion()
	c := s.cluster
	if c == nil {
		return code
	}
	v := c.topology()
	if v == nil {
		return min(code, 1)
	}
	return min(code, v.t.Active())
}

// checkVersion stops the node when the cluster has advanced past its binary: it could not
// apply the log as the others do.
func (c *clusterNode) checkVersion(t *cluster.Topology) bool {
	if err := cluster.TooOld(c.s.codeVersion(), t.Active()); err != nil {
		c.s.fail("the cluster runs a newer version than this binary", err)
		return false
	}
	return true
}

// advertisedVersions maps each node gossip knows to the version it advertises, this one
// included.
func (c *clusterNode) advertisedVersions() map[uint64]uint32 {
	out := map[uint64]uint32{c.id: c.s.codeVersion()}
	if g := c.gossip.Load(); g != nil {
		for id, n := range g.Nodes() {
			if id != c.id {
				out[id] = max(n.Version, 1)
			}
		}
	}
	return out
}

// advanceVersion, on the meta group's leader, advances the cluster's version when every node
// not removed advertises a newer one.
func (c *clusterNode) advanceVersion() {
	if !c.metaLeads() {
		return
	}
	t := c.meta.Topology()
	if t == nil {
		return
	}
	next, ok := cluster.NextVersion(t, c.advertisedVersions())
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(c.ctx, 5*time.Second)
	defer cancel()
	if _, err := c.proposeMeta(ctx, cluster.MetaOp{Op: "cluster-version", ClusterVersion: next}); err != nil {
		c.logger.Warn("advancing the cluster version failed", "to", next, "err", err)
		return
	}
	c.logger.Info("cluster version advanced: every node runs a binary that supports it", "from", t.Active(), "to", next)
}

// nodeVersion is the version a node advertises, 0 if unknown.
func (c *clusterNode) nodeVersion(node uint64) uint32 {
	if node == c.id {
		return c.s.codeVersion()
	}
	g := c.gossip.Load()
	if g == nil {
		return 0
	}
	n, ok := g.Nodes()[node]
	if !ok {
		return 0
	}
	return max(n.Version, 1)
}
