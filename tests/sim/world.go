package sim

import (
	"container/heap"
	"crypto/sha256"
	"fmt"
	"hash"
	"io"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/cairn-db/cairn/internal/cluster"
)

// World is one simulated run: the event queue and virtual time, the nodes, the network, the
// clients and what they recorded.
type World struct {
	cfg Config
	rng *rand.Rand
	now time.Duration

	events eventQueue
	seq    uint64

	nodes   []*Node
	net     *Network
	clients []*Client
	hist    *History
	ledger  *Ledger
	faults  Faults

	// groups are the key groups clients use; groupShard maps each to its shard, groupSlot to
	// its hash slot.
	groups     []int
	groupShard map[int]uint64
	groupSlot  map[int]int

	// From Version4: the topology the cluster was founded with, the topology now (the meta
	// group's record, which every node reads: replacements change it, and nodes report the
	// shards they lead to it), and its slot table.
	founding, topo *cluster.Topology
	slots          *cluster.SlotTable
	// tokens counts the operations nodes proposed (their client tokens).
	tokens uint64
	// From Version5: the meta state machine whose topology topo is, the index of its last
	// operation, the slot movers running (by shard and node) and the __slotown in flight.
	meta      *cluster.Meta
	metaIndex uint64
	movers    map[moverKey]*mover
	owning    map[[2]uint64]bool
	// sysProposals counts the slot mover's proposals (they order its completions).
	sysProposals uint64

	// completions are client callbacks raised while a node was being stepped, run after it
	// in client order (the order Raft raises them in can follow Go's map order).
	completions []completion

	trace  hash.Hash
	traceW io.Writer

	// healed is set once every fault has been undone for good.
	healed bool
	// replacing is set while a node is being replaced (membership.go).
	replacing bool
	// stopping is set once faults have healed: clients finish what they are doing and stop.
	stopping bool
	// problems are violations found while running (the checkers add theirs after).
	problems []string
}

type event struct {
	at  time.Duration
	seq uint64
	fn  func()
}

type eventQueue []event

func (q eventQueue) Len() int { return len(q) }
func (q eventQueue) Less(i, j int) bool {
	if q[i].at != q[j].at {
		return q[i].at < q[j].at
	}
	return q[i].seq < q[j].seq
}
func (q eventQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *eventQueue) Push(x any)   { *q = append(*q, x.(event)) }
func (q *eventQueue) Pop() any {
	old := *q
	e := old[len(old)-1]
	old[len(old)-1] = event{}
	*q = old[:len(old)-1]
	return e
}

// after schedules fn d from now.
func (w *World) after(d time.Duration, fn func()) {
	w.seq++
	heap.Push(&w.events, event{at: w.now + max(d, 0), seq: w.seq, fn: fn})
}

// runUntil processes events until virtual time t (or the queue empties, or stop says so).
func (w *World) runUntil(t time.Duration, stop func() bool) {
	for w.events.Len() > 0 {
		if stop != nil && stop() {
			return
		}
		if w.events[0].at > t {
			w.now = t
			return
		}
		e := heap.Pop(&w.events).(event)
		w.now = e.at
		e.fn()
		w.settle()
	}
}

// settle steps every node that has work, then runs the client callbacks that raised, until
// nothing is left to do at this instant.
func (w *World) settle() {
	for range 1000 {
		busy := false
		for _, n := range w.nodes {
			if n.dirty {
				busy = true
				n.dirty = false
				n.schedule(false)
			}
		}
		if len(w.completions) > 0 {
			busy = true
			cs := w.completions
			w.completions = nil
			sort.SliceStable(cs, func(i, j int) bool { return cs[i].client < cs[j].client })
			for _, c := range cs {
				c.fn()
			}
		}
		if !busy {
			return
		}
	}
	w.problem("the simulation did not settle at %v (a livelock between nodes and clients)", w.now)
}

type completion struct {
	client int
	fn     func()
}

// complete queues a client callback raised by a node.
func (w *World) complete(client int, fn func()) {
	w.completions = append(w.completions, completion{client, fn})
}

// tracef adds a line to the event trace (and its hash).
func (w *World) tracef(format string, args ...any) {
	line := fmt.Sprintf("%10.6f ", w.now.Seconds()) + fmt.Sprintf(format, args...) + "\n"
	w.trace.Write([]byte(line))
	if w.traceW != nil {
		io.WriteString(w.traceW, line)
	}
}

func (w *World) problem(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	w.tracef("VIOLATION %s", msg)
	w.problems = append(w.problems, msg)
}

// chance draws true with probability p.
func (w *World) chance(p float64) bool { return p > 0 && w.rng.Float64() < p }

// between draws a duration in [lo, hi).
func (w *World) between(lo, hi time.Duration) time.Duration {
	if hi <= lo {
		return lo
	}
	return lo + time.Duration(w.rng.Int64N(int64(hi-lo)))
}

func newWorld(cfg Config) *World {
	w := &World{cfg: cfg, rng: rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15)), trace: sha256.New(), traceW: cfg.Trace}
	w.hist = &History{}
	w.ledger = newLedger(w)
	return w
}

// TraceHash is the hash of the event trace so far.
func (w *World) traceHash() string { return fmt.Sprintf("%x", w.trace.Sum(nil)[:8]) }
