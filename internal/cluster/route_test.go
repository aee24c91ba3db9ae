package cluster

import (
	"testing"

	"github.com/cairn-db/cairn/internal/command"
	"github.com/cairn-db/cairn/internal/slot"
)

type fakePlacement struct {
	owner  map[int]uint64
	hosted map[uint64]bool
	leads  map[uint64]bool
	leader map[uint64]string
}

func (f fakePlacement) ShardOf(sl int) uint64 { return f.owner[sl] }
func (f fakePlacement) Local(id uint64) (bool, bool) {
	return f.hosted[id], f.leads[id]
}
func (f fakePlacement) LeaderAddr(id uint64) (string, bool) {
	a, ok := f.leader[id]
	return a, ok
}

func TestRouteSlot(t *testing.T) {
	p := fakePlacement{
		owner:  map[int]uint64{1: 1, 2: 2, 3: 3, 4: 4},
		hosted: map[uint64]bool{1: true, 2: true},
		leads:  map[uint64]bool{1: true},
		leader: map[uint64]string{2: "10.0.0.2:7000", 3: "10.0.0.3:7000"},
	}
	for _, tc := range []struct {
		slot  int
		write bool
		want  RouteKind
		err   string
	}{
		{1, true, Here, ""},                                // led here
		{1, false, Here, ""},                               // read where led
		{2, false, Here, ""},                               // read on a replica
		{2, true, Moved, "MOVED 2 10.0.0.2:7000"},          // write to a follower
		{3, false, Moved, "MOVED 3 10.0.0.3:7000"},         // not held here
		{4, true, Down, "CLUSTERDOWN The cluster is down"}, // no leader known
		{5, false, Down, "CLUSTERDOWN Hash slot not served"},
	} {
		r := RouteSlot(p, tc.slot, tc.write)
		if r.Kind != tc.want || (tc.err != "" && r.Error() != tc.err) {
			t.Fatalf("RouteSlot(slot %d, write %v) = %+v (%q), want kind %d (%q)", tc.slot, tc.write, r, r.Error(), tc.want, tc.err)
		}
	}
}

func TestKeysSlot(t *testing.T) {
	args := func(s ...string) [][]byte {
		out := make([][]byte, len(s))
		for i, a := range s {
			out[i] = []byte(a)
		}
		return out
	}
	for _, tc := range []struct {
		args []string
		want int
	}{
		{[]string{"get", "foo"}, slot.KeySlot([]byte("foo"))},
		{[]string{"mset", "{a}1", "x", "{a}2", "y"}, slot.KeySlot([]byte("a"))},
		{[]string{"mset", "a", "x", "b", "y"}, CrossSlot},
		{[]string{"ping"}, NoSlot},
		{[]string{"mget", "{t}x", "{t}y", "{t}z"}, slot.KeySlot([]byte("t"))},
		{[]string{"zunionstore", "{z}d", "2", "{z}a", "{z}b"}, slot.KeySlot([]byte("z"))}, // movable keys
		{[]string{"zunionstore", "{z}d", "2", "{z}a", "b"}, CrossSlot},
	} {
		a := args(tc.args...)
		cmd := command.Lookup(a[0])
		if got := KeysSlot(cmd, a); got != tc.want {
			t.Fatalf("KeysSlot(%v) = %d, want %d", tc.args, got, tc.want)
		}
	}
}

// TestBootstrapPlacement: replicas of a shard on distinct nodes, replicas and preferred leaders
// spread evenly, slots covered once.
func TestBootstrapPlacement(t *testing.T) {
	for _, tc := range []struct{ nodes, shards, replicas int }{{3, 12, 3}, {5, 20, 3}, {1, 4, 3}, {7, 96, 3}, {3, 1, 3}} {
		var initial []InitialNode
		for i := 0; i < tc.nodes; i++ {
			initial = append(initial, InitialNode{ID: uint64(i + 1), Addr: "127.0.0.1:" + string(rune('0'+i)) + "000"})
		}
		top, err := Bootstrap(initial, func(a string) (string, error) { return a + "0", nil }, tc.shards, tc.replicas)
		if err != nil {
			t.Fatal(err)
		}
		reps := map[uint64]int{}
		leads := map[uint64]int{}
		covered := map[int]bool{}
		for _, sh := range top.Shards {
			seen := map[uint64]bool{}
			for _, r := range sh.Replicas {
				if seen[r.Node] {
					t.Fatalf("%+v: shard %d has two replicas on node %d", tc, sh.ID, r.Node)
				}
				seen[r.Node] = true
				reps[r.Node]++
			}
			if len(sh.Replicas) != min(tc.replicas, tc.nodes) {
				t.Fatalf("%+v: shard %d has %d replicas", tc, sh.ID, len(sh.Replicas))
			}
			leads[sh.Replicas[0].Node]++
			for _, r := range sh.Ranges {
				for s := r.Start; s <= r.End; s++ {
					if covered[s] {
						t.Fatalf("%+v: slot %d owned twice", tc, s)
					}
					covered[s] = true
				}
			}
		}
		if len(covered) != slot.Count {
			t.Fatalf("%+v: %d slots covered", tc, len(covered))
		}
		spread := func(m map[uint64]int) (lo, hi int) {
			lo = 1 << 30
			for i := 1; i <= tc.nodes; i++ {
				lo, hi = min(lo, m[uint64(i)]), max(hi, m[uint64(i)])
			}
			return lo, hi
		}
		if lo, hi := spread(reps); hi-lo > 1 {
			t.Fatalf("%+v: replicas per node from %d to %d", tc, lo, hi)
		}
		if lo, hi := spread(leads); hi-lo > 1 {
			t.Fatalf("%+v: preferred leaders per node from %d to %d", tc, lo, hi)
		}
	}
}
