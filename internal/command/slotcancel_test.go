package command

import (
	"strconv"
	"strings"
	"testing"

	"github.com/cairn-db/cairn/internal/replica"
	"github.com/cairn-db/cairn/internal/slot"
)

// __slotcancel stops a migration that has not started — and no __slotout of it can follow, as
// a leader deposed mid-move might send — but not one that has: its keys are on both shards.
// A later migration of the slot (a newer epoch) runs; the mark stops nothing else.
func TestSlotCancel(t *testing.T) {
	h := newHarness(t)
	h.check("+OK\r\n", "SET", "{a}k", "v")
	h.check("+OK\r\n", "SET", "{b}k", "v")
	sa, sb := slot.KeySlot([]byte("{a}")), slot.KeySlot([]byte("{b}"))
	out := func(s int, epoch string) string {
		return h.sys(bs(SlotOutName, strconv.Itoa(s), "2", "100", "100000", epoch)...)
	}
	cancel := func(s int, epoch string) string { return h.sys(bs(SlotCancelName, strconv.Itoa(s), epoch)...) }

	// Slot a: cancelled before it started.
	if got := cancel(sa, "5"); got != ":1\r\n" {
		t.Fatalf("cancel before the start = %q", got)
	}
	if got := cancel(sa, "5"); got != ":1\r\n" {
		t.Fatalf("cancel again = %q", got)
	}
	if got := out(sa, "5"); !strings.HasPrefix(got, "-ERR the slot's migration was cancelled") {
		t.Fatalf("__slotout of the cancelled migration = %q", got)
	}
	if got := out(sa, "4"); !strings.HasPrefix(got, "-ERR the slot's migration was cancelled") {
		t.Fatalf("__slotout of an older migration = %q", got)
	}
	// The mark is no migration: the key is served here.
	h.check("$1\r\nv\r\n", "GET", "{a}k")
	h.check("+OK\r\n", "SET", "{a}new", "x")
	// A newer migration of the slot runs.
	if got := out(sa, "6"); !strings.HasPrefix(got, "*2\r\n:") || strings.HasPrefix(got, "*2\r\n:0") {
		t.Fatalf("__slotout of a newer migration = %q", got)
	}

	// Slot b: started, so it cannot be cancelled (its keys are in the outbox).
	if got := out(sb, "7"); !strings.HasPrefix(got, "*2\r\n:") || strings.HasPrefix(got, "*2\r\n:0") {
		t.Fatalf("__slotout of slot b = %q", got)
	}
	if got := cancel(sb, "7"); got != ":0\r\n" {
		t.Fatalf("cancel after the start = %q", got)
	}
	if got := cancel(sb, "3"); got != ":0\r\n" {
		t.Fatalf("cancel of an older migration after the start = %q", got)
	}
	// __slotown clears the mark.
	if got := h.sys(bs(SlotOwnName, strconv.Itoa(sa))...); got != "+OK\r\n" || len(h.app.MigratingSlots()) != 1 {
		t.Fatalf("__slotown = %q; migrating %v", got, h.app.MigratingSlots())
	}
}

// Cancelling came with cluster version 2: __slotcancel and __slotout's epoch argument in an
// operation stamped with version 1 (a cluster not yet upgraded everywhere) get the version
// error, the same on every replica, while version 1's __slotout runs.
func TestSlotOpsVersionGate(t *testing.T) {
	h := newHarness(t)
	h.check("+OK\r\n", "SET", "{a}k", "v")
	sa := strconv.Itoa(slot.KeySlot([]byte("{a}")))
	at1 := func(args ...string) string {
		h.index++
		data := AppendOpHeader(nil, OpHeader{Proto: 2, Flags: OpSystem, Time: h.now, Version: 1}, bs(args...))
		results := make([][]byte, 1)
		if err := h.app.Apply([]replica.Entry{{Index: h.index, Data: data}}, results); err != nil {
			t.Fatal(err)
		}
		return string(results[0])
	}
	for _, args := range [][]string{{SlotCancelName, sa, "3"}, {SlotOutName, sa, "2", "10", "1000", "3"}} {
		want := "-ERR cluster version 1 does not support " + args[0] + " yet: upgrade every node first\r\n"
		if got := at1(args...); got != want {
			t.Fatalf("%v at version 1 = %q, want %q", args, got, want)
		}
	}
	if len(h.app.MigratingSlots()) != 0 {
		t.Fatal("the refused operations left migration state")
	}
	if got := at1(SlotOutName, sa, "2", "10", "1000"); !strings.HasPrefix(got, "*2\r\n:") || strings.HasPrefix(got, "*2\r\n:0") {
		t.Fatalf("version 1's __slotout = %q", got)
	}
}
