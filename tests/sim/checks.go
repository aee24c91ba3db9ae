package sim

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/cairn-db/cairn/tests/check"
)

// check runs the checkers over the history and the ledger.
func (w *World) check(converged bool) (OpStats, []string) {
	var st OpStats
	for _, r := range w.hist.ops {
		st.Moved += r.Redirects - r.Asks
		st.Asked += r.Asks
		if r.Input.Cross {
			st.CrossSlot++
			continue
		}
		if r.Input.Kind.IsWrite() {
			st.Writes++
			switch r.Status {
			case OK:
				st.Acked++
			case Unknown:
				st.Unknown++
			case Refused:
				st.Refused++
			}
			continue
		}
		st.Reads++
		if r.Status != OK {
			st.Fail++
			continue
		}
		switch r.Level {
		case Strong:
			st.Strong++
		case Session:
			st.Session++
		default:
			st.Eventual++
		}
	}
	for _, s := range w.ledger.shards {
		st.LogEntries += len(s.entries)
	}
	var checks []string
	var tl timeline
	if w.cfg.Version >= Version5 {
		tl = w.checkLogMoves(converged, &checks)
	} else {
		tl = w.checkLog(converged, &checks)
	}
	w.checkReads(tl, &checks)
	w.checkSessions(&checks)
	w.checkLinearizable(&checks)
	w.checkCrossSlot(&checks)
	if converged && w.cfg.Version >= Version5 {
		w.checkSlotHomes(&checks)
	}
	if converged {
		checks = append(checks, "replicas converged (same applied index, same engine bytes)")
	}
	return st, checks
}

// timeline is the value of every key after every log index of a shard: its changes in index
// order, by shard and key (tlKey).
type timeline map[string][]change

func tlKey(shard uint64, key string) string { return strconv.FormatUint(shard, 10) + "/" + key }

type change struct {
	index uint64
	has   bool
	val   string
}

// at is the value of key after index.
func (t timeline) at(key string, index uint64) check.Output {
	cs := t[key]
	i := sort.Search(len(cs), func(i int) bool { return cs[i].index > index })
	if i == 0 || !cs[i-1].has {
		return check.Output{Nil: true}
	}
	return check.Output{Str: cs[i-1].val}
}

// checkLog replays each shard's ledger through the model: every applied operation must be one
// a client issued (and not one it was told was refused), every acknowledged reply must be
// what applying it at its index gives, and no index may be missing. It returns the timeline
// of every key.
func (w *World) checkLog(converged bool, checks *[]string) timeline {
	tl := timeline{}
	for sid := uint64(1); sid <= uint64(w.cfg.Shards); sid++ {
		sl := w.ledger.shard(sid)
		states := map[int]check.State{}
		gaps := 0
		for i := uint64(2); i <= sl.last; i++ {
			e, ok := sl.entries[i]
			if !ok {
				gaps++
				continue
			}
			if e.opID == 0 {
				continue
			}
			rec := w.hist.byOp[e.opID]
			if rec == nil {
				w.problem("shard %d index %d: op %x was never issued", sid, i, e.opID)
				continue
			}
			if rec.Shard != sid {
				w.problem("shard %d index %d: op %x belongs to shard %d", sid, i, e.opID, rec.Shard)
				continue
			}
			if rec.Status == Refused {
				w.problem("shard %d index %d: %s (op %x) was applied, but c%d was told it was not (%s)", sid, i, rec.Input, e.opID, rec.Client, rec.Why)
			}
			g := rec.Input.Group
			before := states[g]
			next, want := check.Apply(before, rec.Input)
			states[g] = next
			if rec.Status == OK && !want.Equal(rec.Output) {
				w.problem("shard %d index %d: %s replied %s to c%d, applying it there gives %s", sid, i, rec.Input, rec.Output, rec.Client, want)
			}
			for slot := range check.KeysPerGroup {
				if next.Has[slot] != before.Has[slot] || next.Val[slot] != before.Val[slot] {
					k := tlKey(sid, check.Key(g, slot))
					tl[k] = append(tl[k], change{index: i, has: next.Has[slot], val: next.Val[slot]})
				}
			}
		}
		// Membership entries never reach the state machine: they are the only gaps allowed.
		if converged {
			if conf := w.membershipEntries(sid); gaps > conf {
				w.problem("shard %d: %d of the indexes up to %d were applied by no replica (at most %d are membership changes)", sid, gaps, sl.last, conf)
			}
		}
	}
	lost := 0
	for _, r := range w.hist.ops {
		if r.Input.Kind.IsWrite() && r.Status == OK && !r.Input.Cross {
			if _, ok := w.ledger.shard(r.Shard).byOp[r.OpID]; !ok {
				lost++
				w.problem("acknowledged %s (op %x of c%d) is not in the log", r.Input, r.OpID, r.Client)
			}
		}
	}
	*checks = append(*checks,
		"replicas agree on every log index and every reply (state machine safety, deterministic apply)",
		"no operation applied twice; no refused write applied; every acknowledged write in the log",
		"acknowledged replies match the log replayed through the model")
	return tl
}

// membershipEntries bounds how many of a shard's log entries are membership changes, from its
// final membership table: every change takes two entries (joint consensus enters a joint
// configuration, then leaves it); a node that joined was added as a learner and perhaps
// promoted; a removed node was removed once.
func (w *World) membershipEntries(sid uint64) int {
	// Founding replicas are numbered from 1: the node IDs before Version4, the shard's
	// replicas in the topology from it.
	founders := uint64(w.cfg.Nodes)
	if w.founding != nil {
		if f := w.founding.Shard(sid); f != nil {
			founders = uint64(len(f.Replicas))
		} else if sh := w.topo.Shard(sid); sh != nil {
			founders = uint64(len(sh.Initial)) // a split's new shard
		}
	}
	for _, n := range w.holders(sid) {
		s := n.shard(sid)
		if !n.up || s == nil {
			continue
		}
		changes := 0
		for _, m := range s.raft.Members().List {
			if m.ID > founders {
				changes += 2
			}
			if m.Removed {
				changes++
			}
		}
		return 2 * changes
	}
	return 0
}

// checkReads checks that every read returned the key's value at the state it read: the index
// its replica had applied.
func (w *World) checkReads(tl timeline, checks *[]string) {
	for _, r := range w.hist.ops {
		if r.Input.Kind.IsWrite() || r.Status != OK || r.ViaLog {
			continue // a read through the log is checked with the log
		}
		key := check.Key(r.Input.Group, r.Input.Slot)
		if want := tl.at(tlKey(r.Shard, key), r.StateIndex); !want.Equal(r.Output) {
			w.problem("%s read of %s by c%d on %s returned %s at applied index %d; the log has %s there",
				r.Level, key, r.Client, w.nodes[r.Node].name, r.Output, r.StateIndex, want)
		}
	}
	*checks = append(*checks, "every read returned its key's value at the index its replica had applied")
}

// checkSessions checks session guarantees for the clients that read at session (and at strong,
// which promises more): no read older than one before it (monotonic reads) or than the
// session's own last write (read-your-writes); writes applied in the order issued (monotonic
// writes) and after what the session read (writes-follow-reads).
func (w *World) checkSessions(checks *[]string) {
	for _, c := range w.clients {
		if c.level == Eventual {
			continue
		}
		floor := map[uint64]uint64{}
		fromWrite := map[uint64]bool{}
		lastWrite := map[uint64]uint64{}
		for _, r := range w.hist.ops {
			if r.Client != c.id || r.Status != OK || r.Input.Cross {
				continue
			}
			s := r.Shard
			if r.Input.Kind.IsWrite() {
				idx := w.ledger.shard(r.Shard).byOp[r.OpID]
				if idx <= lastWrite[s] {
					w.problem("c%d (%s): write %s applied at %d, before its earlier write at %d (monotonic writes)", c.id, c.level, r.Input, idx, lastWrite[s])
				}
				if !fromWrite[s] && idx <= floor[s] {
					w.problem("c%d (%s): write %s applied at %d, not after the state %d it had read (writes follow reads)", c.id, c.level, r.Input, idx, floor[s])
				}
				lastWrite[s] = idx
				floor[s], fromWrite[s] = max(floor[s], idx), true
				continue
			}
			if r.StateIndex < floor[s] {
				what := "monotonic reads"
				if fromWrite[s] {
					what = "read-your-writes"
				}
				w.problem("c%d (%s): read of %s on %s saw index %d, older than %d it had seen (%s)", c.id, c.level, r.Input, w.nodes[r.Node].name, r.StateIndex, floor[s], what)
			}
			if r.StateIndex > floor[s] {
				floor[s], fromWrite[s] = r.StateIndex, false
			}
		}
	}
	*checks = append(*checks, "session guarantees: read-your-writes, monotonic reads, monotonic writes, writes-follow-reads")
}

// checkLinearizable checks strong reads and every write with porcupine, by group of keys.
func (w *World) checkLinearizable(checks *[]string) {
	var ops []check.Op
	for _, r := range w.hist.ops {
		op := check.Op{Client: r.Client, Input: r.Input, Output: r.Output, Call: int64(r.Call), Return: int64(r.Return)}
		switch {
		case r.Input.Cross:
			continue // checked by checkCrossSlot
		case r.Input.Kind.IsWrite() && r.Status == Unknown:
			op.Output = check.Output{Unknown: true}
		case r.Status != OK:
			continue
		case !r.Input.Kind.IsWrite() && r.Level != Strong:
			continue
		}
		ops = append(ops, op)
	}
	res, info, _ := check.Linearizable(ops, 2*time.Minute)
	switch res {
	case porcupine.Illegal:
		msg := "strong history is not linearizable"
		if dir := os.Getenv("SIM_VIS_DIR"); dir != "" {
			path := filepath.Join(dir, fmt.Sprintf("seed-%d.html", w.cfg.Seed))
			if err := porcupine.VisualizePath(check.Model, info, path); err == nil {
				msg += " (see " + path + ")"
			}
		}
		w.problem("%s; groups: %v", msg, w.illegalGroups(ops))
	case porcupine.Unknown:
		w.problem("linearizability check timed out")
	}
	*checks = append(*checks, fmt.Sprintf("linearizable: %d strong operations (porcupine, by key group)", len(ops)))
}

// checkCrossSlot checks that every cross-slot request was refused with CROSSSLOT and never
// proposed. (The ledger checks every entry of every log as it is applied: its keys are in one
// slot, owned by the entry's shard.)
func (w *World) checkCrossSlot(checks *[]string) {
	n := 0
	for _, r := range w.hist.ops {
		if !r.Input.Cross {
			continue
		}
		n++
		if r.OpID != 0 {
			w.problem("cross-slot %s of c%d was proposed to shard %d (op %x)", r.Input, r.Client, r.Shard, r.OpID)
		}
		if r.Status == OK && r.Output.Err != check.ErrCrossSlot {
			w.problem("cross-slot %s of c%d was answered %s on %s, not CROSSSLOT", r.Input, r.Client, r.Output, w.nodes[r.Node].name)
		}
	}
	*checks = append(*checks, fmt.Sprintf("cross-slot: %d requests refused with CROSSSLOT, none proposed; every log entry's keys in one slot of its shard", n))
}

// illegalGroups finds which groups' histories are not linearizable.
func (w *World) illegalGroups(ops []check.Op) []string {
	byGroup := map[int][]check.Op{}
	for _, op := range ops {
		byGroup[op.Input.Group] = append(byGroup[op.Input.Group], op)
	}
	var out []string
	for _, g := range w.groups {
		if res, _, _ := check.Linearizable(byGroup[g], time.Minute); res == porcupine.Illegal {
			out = append(out, fmt.Sprintf("{g%d}", g))
		}
	}
	return out
}
