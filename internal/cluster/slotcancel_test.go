package cluster

import (
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// Cancelling marks the migrations of a range; the source's slot-migrate-cancelled ends one
// without moving the slot, while a started one is still handed over by slot-migrated. A slot
// being cancelled is not migrated again until the cancellation ends.
func TestMetaSlotCancel(t *testing.T) {
	m, err := OpenMeta("meta", vfs.NewMem(), nil)
	if err != nil {
		t.Fatal(err)
	}
	top, err := Bootstrap([]InitialNode{{ID: 1, Addr: "127.0.0.1:7000"}}, BusAddr, 2, 1)
	if err != nil {
		t.Fatal(err)
	}
	// Shard 1 owns 0-8191, shard 2 8192-16383.
	res := applyOps(t, m, 1,
		MetaOp{Op: "init", Topology: top},
		MetaOp{Op: "slot-migrate", Start: 10, End: 12, To: 2},
		MetaOp{Op: "slot-migrate-cancel", Start: 100, End: 200},
		MetaOp{Op: "slot-migrate-cancel", Start: 11, End: 20},
		MetaOp{Op: "slot-migrate", Start: 11, End: 11, To: 2},
		MetaOp{Op: "slot-migrate-cancelled", Shard: 1, Start: 10, To: 2}, // not cancelled: ignored
		MetaOp{Op: "slot-migrate-cancelled", Shard: 1, Start: 11, To: 2},
		MetaOp{Op: "slot-migrated", Shard: 1, Start: 12, To: 2},          // 12 had started: it completes
		MetaOp{Op: "slot-migrate-cancelled", Shard: 1, Start: 11, To: 2}, // a retry
	)
	want := []string{"", "", "no slot in 100-200 is migrating", "", "slot 11's migration is being cancelled; retry once it has ended", "", "", "", ""}
	for i, r := range res {
		if r.Err != want[i] {
			t.Errorf("op %d: error %q, want %q", i, r.Err, want[i])
		}
	}
	tp := m.Topology()
	if len(tp.Migrations) != 1 || tp.Migrations[0].Slot != 10 || tp.Migrations[0].Cancel {
		t.Fatalf("migrations %+v, want slot 10's alone, not cancelled", tp.Migrations)
	}
	st := tp.Slots()
	if st[11] != 1 || st[12] != 2 || st[10] != 1 {
		t.Fatalf("owners: 10 by %d, 11 by %d, 12 by %d; want 1, 1, 2", st[10], st[11], st[12])
	}
	// A new migration of the cancelled slot has a newer epoch.
	res = applyOps(t, m, 20, MetaOp{Op: "slot-migrate", Start: 11, End: 11, To: 2})
	if res[0].Err != "" {
		t.Fatal(res[0].Err)
	}
	if e10, e11 := m.Topology().Migration(10).Epoch, m.Topology().Migration(11).Epoch; e11 <= e10 {
		t.Fatalf("epochs: slot 10 %d, slot 11's new migration %d", e10, e11)
	}
}
