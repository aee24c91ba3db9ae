package tests

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cairn-db/cairn/internal/servertest"
)

// authConn opens a raw connection to n authenticated as user, failing the test if AUTH fails.
func authConn(t *testing.T, n *servertest.Server, user, pass string) *servertest.Conn {
	t.Helper()
	c := n.Dial()
	if got := c.Do("AUTH", user, pass); got != "+OK\r\n" {
		t.Fatalf("AUTH %s on %s = %q", user, n.Addr, got)
	}
	return c
}

// aclLists returns every node's ACL LIST, joined.
func aclList(t *testing.T, n *servertest.Server) string {
	t.Helper()
	v, err := n.Client().Do(context.Background(), "ACL", "LIST").StringSlice()
	if err != nil {
		t.Fatalf("ACL LIST on %s: %v", n.Addr, err)
	}
	return strings.Join(v, "\n")
}

// TestACLCluster checks that users live in the meta group: a user created on one node (meta
// member or not) can authenticate on every node as soon as the command answers, permission
// changes reach connections already authenticated, a deleted user's connections are closed on
// every node, and a restarted node keeps the users. The users of the nodes' aclfile are the
// cluster's until the first ACL change, which starts from them.
func TestACLCluster(t *testing.T) {
	aclPath := filepath.Join(t.TempDir(), "users.acl")
	if err := os.WriteFile(aclPath, []byte("user default on nopass ~* &* +@all\nuser r on nopass ~* +@read +cluster\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c := servertest.StartCluster(t, 3, "--aclfile", aclPath)
	outside := c.Join() // not a member of the meta group (the founding nodes hold it)
	ctx := context.Background()
	nodes := c.Nodes

	r := nodes[0].Client(func(o *redis.Options) { o.Username, o.Password = "r", "x" })
	if got := errText(r.Set(ctx, "k", "v", 0).Err()); got != noperm("r", "set") {
		t.Errorf("SET as the aclfile's read-only user = %q", got)
	}

	// A bad rule is refused as on a single server, and changes nothing.
	if got := errText(nodes[1].Client().Do(ctx, "ACL", "SETUSER", "bad", "+nosuchcommand").Err()); !strings.HasPrefix(got, "ERR Error in ACL SETUSER modifier '+nosuchcommand'") {
		t.Errorf("ACL SETUSER with a bad rule = %q", got)
	}

	if err := nodes[1].Client().Do(ctx, "ACL", "SETUSER", "alice", "on", ">pw", "~a:*", "+get", "+set", "+ping").Err(); err != nil {
		t.Fatalf("ACL SETUSER alice on node 1: %v", err)
	}
	conns := make([]*servertest.Conn, len(nodes))
	for i, n := range nodes {
		// No waiting: the command answered once every node had the user.
		conns[i] = authConn(t, n, "alice", "pw")
		if got := conns[i].Do("DEL", "a:1"); !strings.HasPrefix(got, "-NOPERM") {
			t.Errorf("DEL as alice on node %d = %q, want NOPERM", i, got)
		}
		if got := conns[i].Do("ACL", "USERS"); !strings.HasPrefix(got, "-NOPERM") {
			t.Errorf("ACL USERS as alice on node %d = %q, want NOPERM", i, got)
		}
		if got := conns[i].Do("PING"); got != "+PONG\r\n" {
			t.Errorf("PING as alice on node %d = %q", i, got)
		}
	}
	// The first change started from the aclfile's users.
	if err := nodes[2].Client(func(o *redis.Options) { o.Username, o.Password = "r", "x" }).Do(ctx, "CLUSTER", "INFO").Err(); err != nil {
		t.Errorf("the aclfile's user after the first cluster change: %v", err)
	}

	// A change on the node outside the meta group reaches every node, and connections already
	// authenticated: they run their next command under the new rules.
	if err := outside.Client().Do(ctx, "ACL", "SETUSER", "alice", "+del").Err(); err != nil {
		t.Fatalf("ACL SETUSER alice +del on the node outside the meta group: %v", err)
	}
	want := aclList(t, nodes[0])
	if !strings.Contains(want, "user alice on") || !strings.Contains(want, "+del") {
		t.Fatalf("ACL LIST after the change:\n%s", want)
	}
	for i, n := range nodes {
		if got := aclList(t, n); got != want {
			t.Errorf("ACL LIST on node %d:\n%s\nwant (node 0's):\n%s", i, got, want)
		}
		if got := conns[i].Do("DEL", "a:1"); strings.HasPrefix(got, "-NOPERM") {
			t.Errorf("DEL as alice on node %d after +del = %q", i, got)
		}
	}

	if err := nodes[0].Client().Do(ctx, "ACL", "SETUSER", "bob", "on", ">bpw", "+@all", "~*").Err(); err != nil {
		t.Fatal(err)
	}
	// Deleting a user closes its connections on every node, and it can no longer log in.
	if n, err := nodes[2].Client().Do(ctx, "ACL", "DELUSER", "alice", "nobody").Int(); err != nil || n != 1 {
		t.Fatalf("ACL DELUSER alice nobody = %d, %v; want 1", n, err)
	}
	for i, n := range nodes {
		if got, err := conns[i].ReadAll(10 * time.Second); err != nil {
			t.Errorf("alice's connection on node %d was not closed: read %q, %v", i, got, err)
		}
		if got := n.Dial().Do("AUTH", "alice", "pw"); !strings.HasPrefix(got, "-WRONGPASS") {
			t.Errorf("AUTH as the deleted alice on node %d = %q", i, got)
		}
	}
	if got := errText(nodes[0].Client().Do(ctx, "ACL", "DELUSER", "default").Err()); got != "ERR The 'default' user cannot be removed" {
		t.Errorf("ACL DELUSER default = %q", got)
	}

	// Restarted nodes, one in the meta group and one outside it, keep the users.
	want = aclList(t, nodes[0])
	for _, n := range []*servertest.Server{nodes[0], outside} {
		n.Restart()
		authConn(t, n, "bob", "bpw")
		if got := aclList(t, n); got != want {
			t.Errorf("ACL LIST on %s after a restart:\n%s\nwant:\n%s", n.Addr, got, want)
		}
	}

	// ACL LOAD makes one node's aclfile the cluster's users.
	if err := os.WriteFile(aclPath, []byte("user carol on >cpw ~* +@all\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := outside.Client().Do(ctx, "ACL", "LOAD").Err(); err != nil {
		t.Fatalf("ACL LOAD: %v", err)
	}
	for i, n := range nodes {
		users, err := n.Client().Do(ctx, "ACL", "USERS").StringSlice()
		if err != nil || strings.Join(users, ",") != "carol,default" {
			t.Errorf("ACL USERS on node %d after ACL LOAD = %v, %v", i, users, err)
		}
		authConn(t, n, "carol", "cpw")
	}

	// ACL SAVE writes the cluster's users, as this node holds them, to this node's aclfile.
	if err := nodes[2].Client().Do(ctx, "ACL", "SETUSER", "erin", "on", ">epw").Err(); err != nil {
		t.Fatal(err)
	}
	if err := outside.Client().Do(ctx, "ACL", "SAVE").Err(); err != nil {
		t.Fatalf("ACL SAVE: %v", err)
	}
	if b, err := os.ReadFile(aclPath); err != nil || !strings.Contains(string(b), "user erin on ") || !strings.Contains(string(b), "user carol on ") {
		t.Errorf("the aclfile after ACL SAVE: %q, %v", b, err)
	}

	// A connection that deletes its own user gets the reply, then is closed.
	for _, n := range []*servertest.Server{nodes[1], outside} {
		carol := authConn(t, n, "carol", "cpw")
		if got := carol.Do("ACL", "SETUSER", "dave", "on", ">dpw", "+@all", "~*"); got != "+OK\r\n" {
			t.Fatalf("ACL SETUSER dave = %q", got)
		}
		dave := authConn(t, n, "dave", "dpw")
		if got := dave.Do("ACL", "DELUSER", "dave"); got != ":1\r\n" {
			t.Errorf("ACL DELUSER of the connection's own user on %s = %q, want :1", n.Addr, got)
		}
		if got, err := dave.ReadAll(10 * time.Second); err != nil || got != "" {
			t.Errorf("the connection that deleted its own user was not closed: read %q, %v", got, err)
		}
	}
}
