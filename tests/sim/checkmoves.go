package sim

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/cairn-db/cairn/internal/command"
	"github.com/cairn-db/cairn/internal/keyspace"
	"github.com/cairn-db/cairn/tests/check"
)

// checkLogMoves is checkLog for Version5, where a key group's keys move from shard to shard.
// It replays the logs of every shard together, in the order their entries were first applied
// (a batch a source exports is applied before the target imports it, and a client's request
// is answered before it sends the next): each shard's state of every group, the slot mover's
// batches carrying keys from the source's state to the target's (keys the target holds win, as
// keyspace.ImportSlot does), and where every key lives. It checks that:
//
//   - every operation applied with an effect is one a client issued, applied once, under the
//     proposal the client was last answered for (an operation answered -ASK or -TRYAGAIN did
//     nothing; its client sent it on), never one its client was told was refused;
//   - an operation with an effect ran on the shard that holds its keys — never on a key in
//     flight between shards nor on a key another shard holds (no key served by two shards);
//   - every acknowledged reply (reads through the log too) is what applying it there gives;
//   - every batch a target imports is one its source exported, with the keys the model says;
//   - every acknowledged write is in a log, and no index is missing but membership changes.
//
// It returns the timeline of every key in every shard, for checkReads.
func (w *World) checkLogMoves(converged bool, checks *[]string) timeline {
	type ref struct {
		shard, index uint64
		e            ledgerEntry
	}
	var all []ref
	var ids []uint64
	for sid := range w.ledger.shards {
		ids = append(ids, sid)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for _, sid := range ids {
		sl := w.ledger.shards[sid]
		gaps := 0
		for i := uint64(2); i <= sl.last; i++ {
			e, ok := sl.entries[i]
			if !ok {
				gaps++
				continue
			}
			all = append(all, ref{sid, i, e})
		}
		if converged && w.topo.Shard(sid) != nil {
			if conf := w.membershipEntries(sid); gaps > conf {
				w.problem("shard %d: %d of the indexes up to %d were applied by no replica (at most %d are membership changes)", sid, gaps, sl.last, conf)
			}
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].e.seq < all[j].e.seq })

	tl := timeline{}
	states := map[uint64]map[int]check.State{} // shard → group → state
	state := func(shard uint64, g int) check.State {
		if states[shard] == nil {
			states[shard] = map[int]check.State{}
		}
		return states[shard][g]
	}
	set := func(shard uint64, index uint64, g int, next check.State) {
		before := state(shard, g)
		for k := range check.KeysPerGroup {
			if next.Has[k] != before.Has[k] || next.Val[k] != before.Val[k] {
				key := tlKey(shard, check.Key(g, k))
				tl[key] = append(tl[key], change{index: index, has: next.Has[k], val: next.Val[k]})
			}
		}
		states[shard][g] = next
	}
	home := map[string]uint64{} // key → the shard holding it (0: none)
	flying := map[string]bool{} // key → exported, not yet imported
	type batchKey struct{ from, slot, seq uint64 }
	type kv struct {
		g, k int
		val  string
	}
	exported := map[batchKey][]kv{}
	lastIn := map[[3]uint64]uint64{} // target, slot, from → last batch written
	effects := map[*Record]int{}
	moved := 0
	for _, r := range all {
		sid, idx, e := r.shard, r.index, r.e
		if e.opID == 0 {
			if e.sysData == nil {
				continue
			}
			var op command.Op
			if err := command.DecodeOp(e.sysData, &op); err != nil || len(op.Cmds) != 1 || len(op.Cmds[0]) < 2 {
				continue
			}
			args := op.Cmds[0]
			slot, _ := strconv.ParseUint(string(args[1]), 10, 64)
			switch string(args[0]) {
			case command.SlotOutName:
				seq, batch, err := parseSlotOut(e.sysResult)
				if err != nil || seq != idx {
					continue // refused, empty, or the outbox answered again
				}
				bk := batchKey{sid, slot, seq}
				_ = keyspace.SlotBatchKeys(batch, func(key []byte) {
					g, k, ok := parseKey(string(key))
					if !ok {
						w.problem("shard %d index %d: exported key %q is no key of the workload", sid, idx, key)
						return
					}
					st := state(sid, g)
					if !st.Has[k] {
						w.problem("shard %d index %d: exported %q, which the log says it does not hold", sid, idx, key)
					}
					exported[bk] = append(exported[bk], kv{g, k, st.Val[k]})
					st.Has[k], st.Val[k] = false, ""
					set(sid, idx, g, st)
					home[string(key)], flying[string(key)] = 0, true
				})
			case command.SlotInName:
				if len(args) != 5 || !strings.HasPrefix(string(e.sysResult), ":") || string(e.sysResult) == ":0\r\n" {
					continue // refused, or a batch written already
				}
				from, _ := strconv.ParseUint(string(args[2]), 10, 64)
				seq, _ := strconv.ParseUint(string(args[3]), 10, 64)
				lk := [3]uint64{sid, slot, from}
				if seq <= lastIn[lk] {
					w.problem("shard %d index %d: wrote batch %d of slot %d from shard %d after batch %d", sid, idx, seq, slot, from, lastIn[lk])
				}
				lastIn[lk] = seq
				kvs, ok := exported[batchKey{from, slot, seq}]
				if !ok {
					w.problem("shard %d index %d: imported batch %d of slot %d, which shard %d never exported", sid, idx, seq, slot, from)
					continue
				}
				for _, x := range kvs {
					key := check.Key(x.g, x.k)
					st := state(sid, x.g)
					if !st.Has[x.k] {
						st.Has[x.k], st.Val[x.k] = true, x.val
						set(sid, idx, x.g, st)
					}
					home[key], flying[key] = sid, false
					moved++
				}
			}
			continue
		}
		rec := w.hist.byOp[e.opID]
		if rec == nil {
			w.problem("shard %d index %d: op %x was never issued", sid, idx, e.opID)
			continue
		}
		if e.refused {
			continue // -ASK or -TRYAGAIN: nothing happened, the client sent it on
		}
		effects[rec]++
		if effects[rec] > 1 {
			w.problem("shard %d index %d: %s (op %x of c%d) applied a second time", sid, idx, rec.Input, e.opID, rec.Client)
		}
		if e.opID != rec.OpID {
			w.problem("shard %d index %d: %s (op %x of c%d) was applied, but its client sent it again (as op %x)", sid, idx, rec.Input, e.opID, rec.Client, rec.OpID)
		}
		if rec.Input.Kind.IsWrite() && rec.Status == Refused {
			w.problem("shard %d index %d: %s (op %x) was applied, but c%d was told it was not (%s)", sid, idx, rec.Input, e.opID, rec.Client, rec.Why)
		}
		for _, key := range rec.Input.Keys() {
			switch {
			case flying[key]:
				w.problem("shard %d index %d: %s (op %x) ran while %s was in flight to another shard", sid, idx, rec.Input, e.opID, key)
			case home[key] != 0 && home[key] != sid:
				w.problem("shard %d index %d: %s (op %x) ran on %s, which shard %d holds", sid, idx, rec.Input, e.opID, key, home[key])
			}
		}
		g := rec.Input.Group
		next, want := check.Apply(state(sid, g), rec.Input)
		set(sid, idx, g, next)
		for k := range check.KeysPerGroup {
			if next.Has[k] {
				home[check.Key(g, k)] = sid
			}
		}
		if rec.Status == OK && e.opID == rec.OpID && !want.Equal(rec.Output) {
			w.problem("shard %d index %d: %s replied %s to c%d, applying it there gives %s", sid, idx, rec.Input, rec.Output, rec.Client, want)
		}
	}
	for _, r := range w.hist.ops {
		if r.Input.Kind.IsWrite() && r.Status == OK && !r.Input.Cross {
			if _, ok := w.ledger.shard(r.Shard).byOp[r.OpID]; !ok || effects[r] == 0 {
				w.problem("acknowledged %s (op %x of c%d) is not in the log of shard %d", r.Input, r.OpID, r.Client, r.Shard)
			}
		}
		if !r.Input.Kind.IsWrite() && r.Status == OK && r.ViaLog {
			r.StateIndex = w.ledger.shard(r.Shard).byOp[r.OpID]
		}
	}
	*checks = append(*checks,
		"replicas agree on every log index and every reply (state machine safety, deterministic apply)",
		fmt.Sprintf("logs replayed together across slot moves (%d keys moved): no operation applied twice or after its client sent it on; no refused write applied; every acknowledged write in a log", moved),
		"no operation ran on a key in flight or held by another shard; every import is an export; replies match the model")
	return tl
}

// parseKey reads a workload key, check.Key's "{g<group>}<letter>".
func parseKey(key string) (g, k int, ok bool) {
	if len(key) < 5 || !strings.HasPrefix(key, "{g") || key[len(key)-2] != '}' {
		return 0, 0, false
	}
	g, err := strconv.Atoi(key[2 : len(key)-2])
	k = int(key[len(key)-1] - 'a')
	return g, k, err == nil && k >= 0 && k < check.KeysPerGroup
}

// checkSlotHomes checks, once the cluster has converged and no slot is migrating, that each
// key group's slot has records in no shard but its owner.
func (w *World) checkSlotHomes(checks *[]string) {
	slots := map[int]bool{}
	for _, g := range w.groups {
		slots[w.groupSlot[g]] = true
	}
	for _, sid := range w.shardIDs() {
		hs := w.holders(sid)
		if len(hs) == 0 || hs[0].shard(sid) == nil {
			continue
		}
		s := hs[0].shard(sid)
		v := s.Acquire()
		tx := keyspace.NewTx(v.Engine.DB(), nil, 0, 0)
		for sl := range slots {
			n := 0
			if err := tx.SlotKeys(sl, func([]byte) bool { n++; return true }); err != nil {
				w.problem("reading slot %d of shard %d: %v", sl, sid, err)
			}
			if n > 0 && w.shardOfSlot(sl) != sid {
				w.problem("shard %d holds %d keys of slot %d, which shard %d owns", sid, n, sl, w.shardOfSlot(sl))
			}
		}
		v.Release()
	}
	*checks = append(*checks, fmt.Sprintf("every slot's records in its owner only (%d slots of key groups)", len(slots)))
}
