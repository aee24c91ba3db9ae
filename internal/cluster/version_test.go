package cluster

import (
	"errors"
	"strings"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/cairn-db/cairn/internal/replica"
)

// versionTopology is a two-node, two-shard topology at cluster version 1, as a cluster founded
// by version-1 binaries has.
func versionTopology(t *testing.T) *Topology {
	t.Helper()
	top, err := Bootstrap([]InitialNode{{ID: 1, Addr: "127.0.0.1:7000"}, {ID: 2, Addr: "127.0.0.1:7001"}}, BusAddr, 2, 2)
	if err != nil {
		t.Fatal(err)
	}
	if top.ClusterVersion != CodeVersion {
		t.Fatalf("a new cluster runs at version %d, want the binary's %d", top.ClusterVersion, CodeVersion)
	}
	top.ClusterVersion = 1
	return top
}

// A cluster at version 1 refuses, in apply, every meta operation of version 2 with the error
// users see, and changes nothing, while those version-1 binaries had (the ACL, slot moves)
// apply; once cluster-version advances it to 2 the newer ones apply too. The version never
// goes back, and slot migrations get epochs from version 2 on.
func TestMetaVersionGate(t *testing.T) {
	m, err := OpenMeta("meta", vfs.NewMem(), nil)
	if err != nil {
		t.Fatal(err)
	}
	newer := []MetaOp{
		{Op: "slot-migrate-cancel", Start: 0, End: 0},
		{Op: "slot-migrate-cancelled", Shard: 1, Start: 0, To: 2},
		{Op: "some-future-op"}, // unlisted: needs the binary's own version
	}
	applyOps(t, m, 1, MetaOp{Op: "init", Topology: versionTopology(t)})
	before := m.Topology().Version
	res := applyOps(t, m, 2, newer...)
	for i, r := range res {
		want := "cluster version 1 does not support "
		if !strings.HasPrefix(r.Err, want) || !strings.HasSuffix(r.Err, " yet: upgrade every node first") {
			t.Errorf("%s at version 1: error %q, want %q...", newer[i].Op, r.Err, want)
		}
	}
	if got := res[0].Err; got != "cluster version 1 does not support CLUSTER MIGRATE-SLOTS-CANCEL yet: upgrade every node first" {
		t.Errorf("slot-migrate-cancel: %q", got)
	}
	if tp := m.Topology(); tp.Version != before {
		t.Fatalf("refused operations changed the topology: version %d->%d", before, tp.Version)
	}
	// Operations of version 1 still apply; a slot migration gets no epoch.
	for i, r := range applyOps(t, m, 20,
		MetaOp{Op: "drain", Node: 2},
		MetaOp{Op: "acl-setuser", User: "alice", Rules: []string{"on"}},
		MetaOp{Op: "slot-migrate", Start: 0, End: 0, To: 2},
	) {
		if r.Err != "" {
			t.Fatalf("op %d at version 1: %s", i, r.Err)
		}
	}
	if m := m.Topology().Migration(0); m == nil || m.Epoch != 0 {
		t.Fatalf("a migration recorded at version 1: %+v", m)
	}
	res = applyOps(t, m, 30,
		MetaOp{Op: "cluster-version", ClusterVersion: 2},
		MetaOp{Op: "cluster-version", ClusterVersion: 1}, // never back
		MetaOp{Op: "slot-migrate", Start: 1, End: 1, To: 2},
		MetaOp{Op: "slot-migrate-cancel", Start: 0, End: 1},
	)
	for i, r := range res {
		if r.Err != "" {
			t.Fatalf("op %d at version 2: %s", i, r.Err)
		}
	}
	tp := m.Topology()
	if tp.ClusterVersion != 2 || tp.UsersVersion != 1 || tp.Migration(1) == nil || tp.Migration(1).Epoch == 0 || !tp.Migration(0).Cancel {
		t.Fatalf("at version 2: cluster version %d, users version %d, migrations %+v", tp.ClusterVersion, tp.UsersVersion, tp.Migrations)
	}
	if err := tp.CheckOp("some-future-op"); CodeVersion == 2 && err != nil {
		t.Errorf("an unlisted operation at the binary's version: %v", err)
	}
}

// A node whose binary is older than the version the cluster advances to stops applying the
// meta log (Apply fails, so the replica stops) instead of applying later entries its own way.
func TestMetaVersionStopsOldBinary(t *testing.T) {
	m, err := OpenMeta("meta", vfs.NewMem(), nil)
	if err != nil {
		t.Fatal(err)
	}
	m.SetCodeVersion(1)
	applyOps(t, m, 1, MetaOp{Op: "init", Topology: versionTopology(t)})
	b := []byte(`{"op":"cluster-version","cluster_version":2}`)
	err = m.Apply([]replica.Entry{{Index: 2, Data: b}}, make([][]byte, 1))
	if !errors.Is(err, ErrBinaryTooOld) {
		t.Fatalf("applying cluster-version 2 on a version-1 binary: err = %v, want ErrBinaryTooOld", err)
	}
	if m.Topology().ClusterVersion != 1 {
		t.Fatal("the old binary adopted the new version")
	}
	if err := TooOld(1, 2); !errors.Is(err, ErrBinaryTooOld) || !strings.Contains(err.Error(), "implements cluster version 1 and the cluster runs version 2") {
		t.Errorf("TooOld(1, 2) = %v", err)
	}
	if err := TooOld(2, 2); err != nil {
		t.Errorf("TooOld(2, 2) = %v", err)
	}
}

// NextVersion advances only when every node not removed advertises a newer version, to the
// lowest of them; a node nothing is known of holds it.
func TestNextVersion(t *testing.T) {
	top := versionTopology(t)
	top.Nodes[3] = &Node{ID: 3, Addr: "c:1", Removed: true}
	for _, tc := range []struct {
		name string
		adv  map[uint64]uint32
		want uint32
	}{
		{"all old", map[uint64]uint32{1: 1, 2: 1}, 0},
		{"one upgraded", map[uint64]uint32{1: 2, 2: 1}, 0},
		{"one says nothing (a binary before versions)", map[uint64]uint32{1: 2, 2: 0}, 0},
		{"one unknown", map[uint64]uint32{1: 2}, 0},
		{"all upgraded", map[uint64]uint32{1: 2, 2: 2}, 2},
		{"removed nodes do not count", map[uint64]uint32{1: 2, 2: 2, 3: 1}, 2},
		{"the lowest wins", map[uint64]uint32{1: 4, 2: 3}, 3},
	} {
		got, ok := NextVersion(top, tc.adv)
		if ok != (tc.want != 0) || got != tc.want {
			t.Errorf("%s: NextVersion = %d, %v; want %d", tc.name, got, ok, tc.want)
		}
	}
	top.ClusterVersion = 3
	if v, ok := NextVersion(top, map[uint64]uint32{1: 3, 2: 3}); ok {
		t.Errorf("at version 3 with every node at 3: advances to %d", v)
	}
}
