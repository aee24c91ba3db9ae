package server

import (
	"context"
	"encoding/binary"
	"errors"
	"sync"
	"time"

	"github.com/cairn-db/cairn/internal/acl"
	"github.com/cairn-db/cairn/internal/cluster"
	"github.com/cairn-db/cairn/internal/resp"
)

// ACL users in a cluster live in the meta group (cluster.Topology.Users): ACL SETUSER, DELUSER
// and LOAD on any node become meta operations, the meta group's apply computes each user's new
// definition, and every node adopts the users of the newest topology it holds — meta members
// when they apply, the others when they fetch it. The users are saved with the meta state (and
// the topology cache of a node outside the meta group), so a restarted node, or one that
// installs a meta snapshot, has them.
//
// An ACL command answers once the change is committed and every live node has adopted it
// (reqUsersSync), so a client told OK on one node can authenticate on any other at once. A
// node that is down, or does not confirm within usersSyncTimeout, adopts the change when it
// next reaches the meta group.

// reqUsersSync asks a node to adopt users up to a version. body: version(8); reply: empty,
// once it has. (Numbered apart from the other request kinds.)
const reqUsersSync = 20

// usersSyncTimeout bounds how long an ACL command waits for the other nodes to adopt it.
const usersSyncTimeout = 5 * time.Second

// clusterUsers is a node's record of the cluster users it adopted.
type clusterUsers struct {
	mu sync.Mutex
	// applied is the UsersVersion adopted; read under mu.
	applied uint64
}

// adoptUsers makes the users of the node's topology the server's, if they are newer than the
// ones it adopted: new and changed users replace the old, deleted users' connections are
// closed (as ACL DELUSER does), and subscribers whose channels were taken away are dropped.
func (c *clusterNode) adoptUsers() {
	c.users.mu.Lock()
	defer c.users.mu.Unlock()
	t := c.topology().t
	if t.UsersVersion <= c.users.applied {
		return
	}
	c.users.applied = t.UsersVersion
	users, err := acl.ParseDefinitions(t.Users)
	if err != nil {
		c.logger.Warn("the cluster's ACL users cannot be applied", "users_version", t.UsersVersion, "err", err)
		return
	}
	ch := c.s.acl.Adopt(users)
	c.s.dropUsers(nil, ch.Deleted)
	for _, x := range ch.Changed {
		c.s.dropSubscribers(nil, x)
	}
}

func (c *clusterNode) usersApplied() uint64 {
	c.users.mu.Lock()
	defer c.users.mu.Unlock()
	return c.users.applied
}

// awaitUsersLocal waits until this node has adopted users version v: a meta member applies it
// by itself, a node outside the meta group fetches the topology until it has it.
func (c *clusterNode) awaitUsersLocal(ctx context.Context, v uint64) error {
	for c.usersApplied() < v {
		if c.metaRaft() == nil {
			c.fetchTopology()
			if c.usersApplied() >= v {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-c.stop:
			return errors.New("node stopping")
		case <-time.After(10 * time.Millisecond):
		}
	}
	return nil
}

// awaitUsersEverywhere waits until every live node has adopted users version v (at most
// usersSyncTimeout), and reports how many did not confirm.
func (c *clusterNode) awaitUsersEverywhere(v uint64) int {
	ctx, cancel := context.WithTimeout(context.Background(), usersSyncTimeout)
	defer cancel()
	body := binary.BigEndian.AppendUint64(nil, v)
	var wg sync.WaitGroup
	var mu sync.Mutex
	missed := 0
	miss := func(node uint64, err error) {
		c.logger.Warn("a node did not confirm the cluster's new ACL users; it adopts them when it reaches the meta group", "node", node, "err", err)
		mu.Lock()
		missed++
		mu.Unlock()
	}
	if err := c.awaitUsersLocal(ctx, v); err != nil {
		miss(c.id, err)
	}
	for _, n := range c.topology().t.LiveNodes() {
		if n.ID == c.id || !c.alive(n.ID) {
			continue
		}
		wg.Add(1)
		go func(id uint64) {
			defer wg.Done()
			if _, err := c.bus.CallPeer(ctx, id, reqUsersSync, body); err != nil {
				miss(id, err)
			}
		}(n.ID)
	}
	wg.Wait()
	return missed
}

// serveUsersSync answers reqUsersSync once this node has adopted the version asked for.
func (c *clusterNode) serveUsersSync(body []byte, reply func([]byte, error)) {
	if len(body) != 8 {
		reply(nil, errors.New("bad users sync request"))
		return
	}
	v := binary.BigEndian.Uint64(body)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), usersSyncTimeout)
		defer cancel()
		reply(nil, c.awaitUsersLocal(ctx, v))
	}()
}

// proposeACL runs an ACL change as a meta operation, off the event loop, and answers with
// answer's reply once every live node has it.
func (s *Server) proposeACL(cl *Client, op cluster.MetaOp, answer func(w *resp.Writer, res *cluster.MetaResult)) {
	c := s.cluster
	if c.topology().t.UsersVersion == 0 {
		// The cluster has no users yet: the first change starts from this node's.
		op.Users = s.acl.Definitions()
		delete(op.Users, "default")
	}
	cl.aclParked.Store(true)
	s.parkLocal(cl, func() []byte {
		defer cl.aclParked.Store(false)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		w := resp.Writer{Proto: cl.proto}
		res, err := c.proposeMeta(ctx, op)
		if err != nil {
			w.Error("ERR " + err.Error())
			return w.Buf
		}
		c.awaitUsersEverywhere(res.UsersVersion)
		answer(&w, res)
		return w.Buf
	})
}

// clusterSetUser is ACL SETUSER in a cluster.
func (s *Server) clusterSetUser(cl *Client, name string, rules []string) {
	op := cluster.MetaOp{Op: "acl-setuser", User: name, Rules: rules, AllChans: s.acl.PubsubAllChannels()}
	if h := s.acl.Get(name); h != nil {
		op.Base = h.User().Describe()
	}
	// Check the rules here first, so a mistake is answered without a round through the meta
	// group; the meta group's apply checks them again against the cluster's definition.
	if _, err := acl.Define(name, op.Base, rules, op.AllChans); err != nil {
		cl.loop.w.Error("ERR " + err.Error())
		return
	}
	s.proposeACL(cl, op, func(w *resp.Writer, _ *cluster.MetaResult) { w.OK() })
}

// clusterDelUsers is ACL DELUSER in a cluster.
func (s *Server) clusterDelUsers(cl *Client, names []string) {
	for _, n := range names {
		if n == "default" {
			cl.loop.w.Error("ERR The 'default' user cannot be removed")
			return
		}
	}
	s.proposeACL(cl, cluster.MetaOp{Op: "acl-deluser", Names: names}, func(w *resp.Writer, res *cluster.MetaResult) {
		w.Int(int64(res.Count))
	})
}

// clusterLoadUsers is ACL LOAD in a cluster: this node's ACL file becomes the cluster's users.
func (s *Server) clusterLoadUsers(cl *Client, users []*acl.User) {
	defs := make(map[string]string, len(users)+1)
	for _, u := range users {
		defs[u.Name] = u.Describe()
	}
	if _, ok := defs["default"]; !ok {
		defs["default"] = acl.DefaultDefinition()
	}
	s.proposeACL(cl, cluster.MetaOp{Op: "acl-load", Users: defs}, func(w *resp.Writer, _ *cluster.MetaResult) { w.OK() })
}
