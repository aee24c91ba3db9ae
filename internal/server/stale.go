package server

import (
	"time"
)

// Redirecting by a stale topology.
//
// A slot's hand-over (slot-migrated) reaches the nodes at different times: meta members apply
// it, the others fetch it every half second. Between the two, a node that already knows
// answers -MOVED to the target shard's leader, and the target's node, if it does not know yet,
// answered -MOVED back to the source (its view still has the source owning the slot): a
// client following redirections bounced between the two until it gave up (go-redis after 16).
//
// The target's node can tell that it may be behind: its view has the slot migrating into a
// shard it holds, and a client came to it without ASKING — which a client does only once some
// node told it the target owns the slot. Such a node answers -TRYAGAIN instead of redirecting
// to the source and fetches the topology at once; the client retries after a short backoff and
// finds the node up to date. Once a meta member has confirmed, after the request that raised
// the doubt, that the node's view is the newest, the slot really is still the source's, and
// the node redirects there as before for confirmFresh — so a client whose slot table is merely
// old is held off by one round trip to the meta group, not for the length of a migration. A
// node never redirects to the source by a view older than the hand-over it might be the target
// of.

// errMaybeStale answers a request this node would redirect by a view that may be older than the
// client's.
const errMaybeStale = "TRYAGAIN The slot may have moved here; this node is checking the cluster's topology, retry"

// confirmFresh is how long a doubt, once a meta member answered it, stays answered.
const confirmFresh = time.Second

// confirm records that a meta member said version is the newest topology.
func (c *clusterNode) confirm(version uint64) {
	c.confirmed.Store(version)
	c.confirmedAt.Store(time.Now().UnixNano())
}

// maybeStale reports whether a redirection for slot sl could be by a view older than the
// client's (see above), and if so asks for the topology at once.
func (c *clusterNode) maybeStale(sl int) bool {
	v := c.topology()
	m := v.t.Migration(sl)
	if m == nil || c.s.hostedShard(m.To) == nil || c.metaLeads() {
		return false
	}
	now := time.Now().UnixNano()
	doubt := c.doubtAt.Load()
	if doubt != 0 && now-doubt < int64(confirmFresh) && c.confirmedAt.Load() > doubt && c.confirmed.Load() >= v.t.Version {
		return false // checked since the doubt arose: the view is the newest
	}
	if doubt == 0 || now-doubt >= int64(confirmFresh) || c.confirmedAt.Load() > doubt {
		c.doubtAt.Store(now)
	}
	select {
	case c.refreshNow <- struct{}{}:
	default:
	}
	return true
}
