package cluster

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/cairn-db/cairn/internal/replica"
)

// The meta group records a slot migration and its end: the slot leaves the source's ranges
// (split around it) and joins the target's (merged with a neighbour); retried and conflicting
// operations are answered as such.
func TestMetaSlotMigration(t *testing.T) {
	m, err := OpenMeta(t.TempDir(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	top, err := Bootstrap([]InitialNode{{ID: 1, Addr: "a:1"}}, func(string) (string, error) { return "b:1", nil }, 2, 1)
	if err != nil {
		t.Fatal(err)
	}
	idx := uint64(0)
	apply := func(op MetaOp) string {
		t.Helper()
		idx++
		data, _ := json.Marshal(op)
		res := make([][]byte, 1)
		if err := m.Apply([]replica.Entry{{Index: idx, Data: data}}, res); err != nil {
			t.Fatal(err)
		}
		var r MetaResult
		_ = json.Unmarshal(res[0], &r)
		return r.Err
	}
	apply(MetaOp{Op: "init", Topology: top})
	// Shard 1 owns 0-8191, shard 2 8192-16383.
	for _, tc := range []struct {
		op   MetaOp
		want string
	}{
		{MetaOp{Op: "slot-migrate", Start: 8190, End: 8192, To: 2}, "slots 8190-8192 are not all owned by one shard"},
		{MetaOp{Op: "slot-migrate", Start: 100, End: 100, To: 1}, "slots 100-100 are owned by shard 1 already"},
		{MetaOp{Op: "slot-migrate", Start: 100, End: 100, To: 9}, "no shard 9"},
		{MetaOp{Op: "slot-migrate", Start: 9, End: 3, To: 2}, "invalid slot range 9-3"},
		{MetaOp{Op: "slot-migrate", Start: 8190, End: 8191, To: 2}, ""},
		{MetaOp{Op: "slot-migrate", Start: 8190, End: 8191, To: 2}, ""}, // a retry
		{MetaOp{Op: "slot-migrate", Start: 100, End: 100, To: 2}, ""},
		{MetaOp{Op: "slot-migrated", Shard: 1, Start: 8191, To: 2}, ""},
		{MetaOp{Op: "slot-migrated", Shard: 1, Start: 8191, To: 2}, ""}, // a retry changes nothing
		{MetaOp{Op: "slot-migrated", Shard: 1, Start: 100, To: 2}, ""},
	} {
		if got := apply(tc.op); got != tc.want {
			t.Fatalf("%+v: error %q, want %q", tc.op, got, tc.want)
		}
	}
	got := m.Topology()
	if want := []SlotRange{{0, 99}, {101, 8190}}; !reflect.DeepEqual(got.Shard(1).Ranges, want) {
		t.Fatalf("shard 1 owns %v, want %v", got.Shard(1).Ranges, want)
	}
	if want := []SlotRange{{100, 100}, {8191, 16383}}; !reflect.DeepEqual(got.Shard(2).Ranges, want) {
		t.Fatalf("shard 2 owns %v, want %v", got.Shard(2).Ranges, want)
	}
	// Epoch: the topology version the first slot-migrate of 8190 made (the founding one is 1).
	if want := []SlotMigration{{Slot: 8190, From: 1, To: 2, Epoch: 2}}; !reflect.DeepEqual(got.Migrations, want) {
		t.Fatalf("migrations %v, want %v", got.Migrations, want)
	}
	if got.Migration(8190) == nil || got.Migration(8191) != nil {
		t.Fatal("Migration does not find what Migrations holds")
	}
	if got := apply(MetaOp{Op: "slot-migrate", Start: 8190, End: 8190, To: 1}); got == "" {
		t.Fatal("a slot migrating already was sent elsewhere too")
	}
}
