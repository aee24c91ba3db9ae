package tests

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/redis/go-redis/v9"

	"github.com/cairn-db/cairn/internal/servertest"
)

// A node whose state fails verification at startup — a Raft log record whose checksum does not
// match, an engine whose manifest is damaged — is not trusted: it moves its state aside, keeps
// its node ID, has each group it held replace its replica with a new one under a new replica
// ID, and gets the data back from the leaders by snapshot.
func TestClusterRebuildsCorruptNode(t *testing.T) {
	damage := []struct {
		name string
		do   func(t *testing.T, dir string)
	}{
		{"raft log entry", corruptRaftEntry},
		{"engine manifest", corruptManifest},
	}
	for _, d := range damage {
		t.Run(d.name, func(t *testing.T) {
			c := servertest.StartCluster(t, 3, "--cluster-snapshot-entries", "100", "--cluster-shards", "3")
			ctx := servertest.Ctx(t)
			cc := c.Client()
			for i := range 300 {
				if err := cc.Set(ctx, fmt.Sprintf("k%d", i), fmt.Sprintf("v%d", i), 0).Err(); err != nil {
					t.Fatalf("SET k%d: %v", i, err)
				}
			}
			leader := c.LeaderOf("k299")
			if n, err := leader.Client().Do(ctx, "WAIT", 2, 5000).Int(); err != nil || n != 2 {
				t.Fatalf("WAIT 2 = %d, %v; want both replicas", n, err)
			}
			f := c.Followers(leader)[0]
			oldID := f.Info("replication", "raft_node_id")
			oldReplica := f.Info("replication", "raft_shard_1")
			f.Kill()
			d.do(t, f.Dir)
			f.Restart()

			waitLong(t, "the damaged node to hold new replicas", func() bool {
				st := f.Info("replication", "raft_shard_1")
				return st != "" && replicaOf(st) != replicaOf(oldReplica)
			})
			if got := f.Info("replication", "raft_node_id"); got != oldID {
				t.Fatalf("the rebuilt node's ID = %s, want %s: a node keeps its identity", got, oldID)
			}
			if !strings.Contains(f.Log(), "failed verification") {
				t.Fatalf("the node did not report the damage:\n%s", f.Log())
			}
			if aside, _ := filepath.Glob(filepath.Join(f.Dir, "corrupt-*")); len(aside) != 1 {
				t.Fatalf("damaged state moved aside to %v, want one corrupt-* directory", aside)
			}
			waitLong(t, "the rebuilt node to hold the data", func() bool {
				v, err := eventualGet(f, "k299")
				return err == nil && v == "v299"
			})
			for i := range 300 {
				k := fmt.Sprintf("k%d", i)
				var v string
				var err error
				waitLong(t, "the rebuilt node to hold "+k, func() bool {
					v, err = eventualGet(f, k)
					return err == nil && v == fmt.Sprintf("v%d", i)
				})
			}
			// The old replicas are gone: the groups count two others, and take writes.
			if err := cc.Set(ctx, "after", "1", 0).Err(); err != nil {
				t.Fatal(err)
			}
			leader = c.LeaderOf("after")
			waitLong(t, "the leader to see two replicas applying", func() bool {
				n, err := leader.Client().Do(ctx, "WAIT", 2, 1000).Int()
				return err == nil && n == 2
			})
		})
	}
}

// replicaOf is the replica ID in an INFO replication raft_shard_N line.
func replicaOf(line string) string {
	for _, f := range strings.Split(line, ",") {
		if v, ok := strings.CutPrefix(f, "replica="); ok {
			return v
		}
	}
	return ""
}

func eventualGet(s *servertest.Server, key string) (string, error) {
	c := redis.NewClient(&redis.Options{Addr: s.Addr, MaxRetries: -1, PoolSize: 1, Protocol: 2, ReadTimeout: 5 * time.Second})
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn := c.Conn()
	defer conn.Close()
	if err := conn.Do(ctx, "CONSISTENCY", "eventual").Err(); err != nil {
		return "", err
	}
	return conn.Get(ctx, key).Result()
}

// waitLong polls cond for up to a minute (a rejoin takes elections and a snapshot).
func waitLong(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// corruptRaftEntry flips a bit in the value of the first Raft log entry of the node's log store,
// as a bad disk block would; the record's checksum no longer matches.
func corruptRaftEntry(t *testing.T, dir string) {
	t.Helper()
	db, err := pebble.Open(filepath.Join(dir, "raft", "log"), &pebble.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	it, err := db.NewIter(&pebble.IterOptions{LowerBound: []byte("e"), UpperBound: []byte("f")})
	if err != nil {
		t.Fatal(err)
	}
	if !it.Last() {
		t.Fatal("no raft log entries to damage")
	}
	key := append([]byte(nil), it.Key()...)
	val := append([]byte(nil), it.Value()...)
	it.Close()
	val[len(val)-1] ^= 0x10
	if err := db.Set(key, val, pebble.Sync); err != nil {
		t.Fatal(err)
	}
}

// corruptManifest flips a byte in the middle of the engine's manifest.
func corruptManifest(t *testing.T, dir string) {
	t.Helper()
	ms, _ := filepath.Glob(filepath.Join(dir, "shards", "*", "engine-*", "MANIFEST-*"))
	if len(ms) == 0 {
		t.Fatal("no engine manifest to damage")
	}
	p := ms[len(ms)-1]
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0xff
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
