package cluster

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/cairn-db/cairn/internal/replica"
)

// applyOps applies meta operations, one entry each from index first, and returns their results.
func applyOps(t *testing.T, m *Meta, first uint64, ops ...MetaOp) []MetaResult {
	t.Helper()
	entries := make([]replica.Entry, len(ops))
	for i, op := range ops {
		b, _ := json.Marshal(op)
		entries[i] = replica.Entry{Index: first + uint64(i), Data: b}
	}
	results := make([][]byte, len(ops))
	if err := m.Apply(entries, results); err != nil {
		t.Fatal(err)
	}
	out := make([]MetaResult, len(ops))
	for i, r := range results {
		if err := json.Unmarshal(r, &out[i]); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// TestMetaACL checks the ACL meta operations: the first starts from the proposer's users, rules
// compose in apply, errors change nothing, and the users survive reopening the state and a
// checkpoint restored elsewhere.
func TestMetaACL(t *testing.T) {
	fs := vfs.NewMem()
	m, err := OpenMeta("meta", fs, nil)
	if err != nil {
		t.Fatal(err)
	}
	top, err := Bootstrap([]InitialNode{{ID: 1, Addr: "127.0.0.1:7000"}}, BusAddr, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	res := applyOps(t, m, 1,
		MetaOp{Op: "init", Topology: top},
		MetaOp{Op: "acl-setuser", User: "alice", Rules: []string{"on", ">pw", "+get"}, Users: map[string]string{"r": "on nopass ~* resetchannels -@all +get"}},
		MetaOp{Op: "acl-setuser", User: "alice", Rules: []string{"+set", "~a:*"}, Users: map[string]string{"ignored": "on"}},
		MetaOp{Op: "acl-setuser", User: "alice", Rules: []string{"+nosuchcommand"}},
		MetaOp{Op: "acl-deluser", Names: []string{"r", "nobody"}},
		MetaOp{Op: "acl-deluser", Names: []string{"default"}},
	)
	if res[1].Err != "" || res[2].Err != "" || res[1].UsersVersion != 1 || res[2].UsersVersion != 2 {
		t.Fatalf("ACL SETUSER results: %+v %+v", res[1], res[2])
	}
	if !strings.Contains(res[3].Err, "'+nosuchcommand'") {
		t.Errorf("a bad rule: %+v", res[3])
	}
	if res[4].Err != "" || res[4].Count != 1 {
		t.Errorf("ACL DELUSER r nobody: %+v, want a count of 1", res[4])
	}
	if res[5].Err == "" {
		t.Errorf("ACL DELUSER default was accepted")
	}
	check := func(m *Meta, when string) {
		t.Helper()
		tp := m.Topology()
		alice := tp.Users["alice"]
		if len(tp.Users) != 1 || tp.UsersVersion != 3 || !strings.Contains(alice, "~a:*") || !strings.Contains(alice, "+get") || !strings.Contains(alice, "+set") {
			t.Errorf("%s: users %v at version %d", when, tp.Users, tp.UsersVersion)
		}
	}
	check(m, "applied")
	m2, err := OpenMeta("meta", fs, nil)
	if err != nil {
		t.Fatal(err)
	}
	check(m2, "reopened")
	if err := m.Checkpoint("snap"); err != nil {
		t.Fatal(err)
	}
	m3, err := OpenMeta("other", fs, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m3.Restore("snap"); err != nil {
		t.Fatal(err)
	}
	check(m3, "restored from a checkpoint")
	// A copy of the topology does not share the users with the original.
	c := m.Topology().Clone()
	c.Users["x"] = "on"
	if _, ok := m.Topology().Users["x"]; ok {
		t.Error("Clone shares the users map")
	}
}
