package command

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cairn-db/cairn/internal/slot"
)

// TestSlotMoveRandomized drives one slot's move between two shards' appliers through a seeded
// random interleaving of client requests and the slot mover's steps, under the faults the
// mover's design must survive: batches lost on the way to the target (resent from the outbox),
// delivered twice, or delivered again long after (an old batch resent by a former leader),
// acknowledgements lost, the mover restarting (a new leader resuming from the outbox), and a
// cancellation at a random point followed by a deposed leader's stale __slotout. Clients follow
// Redis Cluster's rules (the owner first; -ASK to the target; -TRYAGAIN is not acknowledged).
//
// At the end every acknowledged write is readable from the slot's owner, no key is on both
// shards, and a cancelled move left nothing on the target.
func TestSlotMoveRandomized(t *testing.T) {
	seed := *seedFlag
	if seed == 0 {
		seed = time.Now().UnixNano()
	}
	runs := 30
	if testing.Short() {
		runs = 5
	}
	for i := 0; i < runs; i++ {
		s := seed + int64(i)
		if !t.Run("seed="+strconv.FormatInt(s, 10), func(t *testing.T) { slotMoveRun(t, s) }) {
			t.Fatalf("failed with -seed %d", s)
		}
	}
}

func slotMoveRun(t *testing.T, seed int64) {
	rng := rand.New(rand.NewPCG(uint64(seed), 0))
	src, dst := newHarness(t), newHarness(t)
	dst.now = src.now
	const nkeys = 24
	key := func(i int) string { return "{m}k" + strconv.Itoa(i) }
	sl := slot.KeySlot([]byte("{m}"))
	model := map[string]string{} // acknowledged values
	for i := 0; i < nkeys/2; i++ {
		k := key(i)
		src.check("+OK\r\n", "SET", k, "init"+strconv.Itoa(i))
		model[k] = "init" + strconv.Itoa(i)
	}
	const epoch = "7"
	var (
		owner     = src
		migrating = true
		cancelled = false
		done      = false
		seq       uint64
		batch     []byte
		stage     = 0        // 0: take a batch out, 1: deliver it, 2: acknowledge it
		sent      [][]string // every __slotin sent, for stale resends
		writes    = 0
	)
	mover := func() {
		switch stage {
		case 0:
			r := src.sys(bs(SlotOutName, strconv.Itoa(sl), "2", strconv.Itoa(1+rng.IntN(4)), "100000", epoch)...)
			if strings.HasPrefix(r, "-ERR the slot's migration was cancelled") {
				t.Fatalf("__slotout refused during a live migration: %q", r)
			}
			parts := strings.SplitN(r, "\r\n", 4)
			if len(parts) < 4 || parts[0] != "*2" {
				t.Fatalf("__slotout = %q", r)
			}
			seq, _ = strconv.ParseUint(parts[1][1:], 10, 64)
			n, _ := strconv.Atoi(parts[2][1:])
			batch = []byte(parts[3][:n])
			if seq == 0 {
				owner, migrating, done = dst, false, true // slot-migrated
				return
			}
			stage = 1
		case 1:
			if rng.IntN(5) == 0 {
				stage = 0 // lost on the way: the outbox is resent
				return
			}
			args := []string{SlotInName, strconv.Itoa(sl), "1", strconv.FormatUint(seq, 10), string(batch)}
			sent = append(sent, args)
			for k := 1 + rng.IntN(2); k > 0; k-- { // sometimes twice
				if r := dst.sys(bs(args...)...); r[0] != ':' {
					t.Fatalf("__slotin = %q", r)
				}
			}
			stage = 2
		case 2:
			if rng.IntN(5) == 0 {
				stage = 0 // the acknowledgement was lost, or a new leader resumes
				return
			}
			if r := src.sys(bs(SlotAckName, strconv.Itoa(sl), strconv.FormatUint(seq, 10))...); r != ":1\r\n" && r != ":0\r\n" {
				t.Fatalf("__slotack = %q", r)
			}
			stage = 0
		}
	}
	client := func() {
		k := key(rng.IntN(nkeys))
		write := rng.IntN(2) == 0
		v := "w" + strconv.Itoa(writes)
		run := func(h *harness) string {
			if write {
				return h.do("SET", k, v)
			}
			return h.do("GET", k)
		}
		r := run(owner)
		if strings.HasPrefix(r, "-ASK ") {
			if !migrating && owner == src {
				t.Fatalf("%s on the source after the migration ended: %q", k, r)
			}
			r = run(dst) // ASKING, then the request, on the target
		}
		switch {
		case strings.HasPrefix(r, "-TRYAGAIN"):
			return // refused: not acknowledged
		case strings.HasPrefix(r, "-MOVED"), strings.HasPrefix(r, "-ASK"):
			t.Fatalf("%s: %q", k, r)
		case write:
			if r != "+OK\r\n" {
				t.Fatalf("SET %s = %q", k, r)
			}
			model[k] = v
			writes++
		default:
			want := "$-1\r\n"
			if m, ok := model[k]; ok {
				want = "$" + strconv.Itoa(len(m)) + "\r\n" + m + "\r\n"
			}
			if r != want {
				t.Fatalf("GET %s = %q, want %q (acknowledged)", k, r, want)
			}
		}
	}
	for step := 0; step < 400 && !done; step++ {
		switch x := rng.IntN(20); {
		case x == 0 && len(sent) > 0:
			// A batch resent long after, as a former leader may: it must change nothing.
			old := sent[rng.IntN(len(sent))]
			if r := dst.sys(bs(old...)...); r[0] != ':' {
				t.Fatalf("stale __slotin = %q", r)
			}
		case x == 1 && !cancelled:
			cancelled = true
			switch r := src.sys(bs(SlotCancelName, strconv.Itoa(sl), epoch)...); r {
			case ":1\r\n":
				if len(sent) > 0 {
					t.Fatalf("__slotcancel stopped a move that had sent batches")
				}
				migrating, done = false, true // slot-migrate-cancelled
			case ":0\r\n":
				// Started: it completes.
			default:
				t.Fatalf("__slotcancel = %q", r)
			}
		case x < 10:
			mover()
		default:
			client()
		}
	}
	if !done {
		for i := 0; i < 1000 && !done; i++ {
			mover()
		}
		if !done {
			t.Fatal("the move did not finish")
		}
	}
	if owner == src {
		// Cancelled before it started: a deposed leader's __slotout of the migration is
		// refused, and the source forgets the mark once the slot is its own again.
		if r := src.sys(bs(SlotOutName, strconv.Itoa(sl), "2", "10", "100000", epoch)...); !strings.HasPrefix(r, "-ERR the slot's migration was cancelled") {
			t.Fatalf("a stale __slotout after the cancel = %q", r)
		}
		if r := src.sys(bs(SlotOwnName, strconv.Itoa(sl))...); r != "+OK\r\n" {
			t.Fatalf("__slotown = %q", r)
		}
		if r := dst.do("DBSIZE"); r != ":0\r\n" {
			t.Fatalf("a cancelled move left keys on the target: DBSIZE %q", r)
		}
	}
	for i := 0; i < 200; i++ {
		client()
	}
	for i := 0; i < nkeys; i++ {
		k := key(i)
		want := "$-1\r\n"
		if m, ok := model[k]; ok {
			want = "$" + strconv.Itoa(len(m)) + "\r\n" + m + "\r\n"
		}
		if r := owner.do("GET", k); r != want {
			t.Fatalf("at the end GET %s = %q, want %q", k, r, want)
		}
	}
	total := 0
	for _, h := range []*harness{src, dst} {
		n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(h.do("DBSIZE"), ":"), "\r\n"))
		total += n
	}
	if total != len(model) {
		t.Fatalf("%d keys over both shards, %d acknowledged: a key is on both, or lost", total, len(model))
	}
	t.Logf("moved=%v cancelled=%v batches=%d writes=%d", owner == dst, cancelled, len(sent), writes)
}
