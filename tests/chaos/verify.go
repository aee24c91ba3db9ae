package main

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/redis/go-redis/v9"

	"github.com/cairn-db/cairn/tests/check"
)

// verdict collects what the checks found.
type verdict struct {
	checks     []string
	violations []string
}

func (v *verdict) pass(format string, args ...any) {
	v.checks = append(v.checks, fmt.Sprintf(format, args...))
}

func (v *verdict) fail(format string, args ...any) {
	v.violations = append(v.violations, fmt.Sprintf(format, args...))
}

// checkLinearizable checks the writes and strong reads of the shared groups with porcupine.
func checkLinearizable(h []*record, shared map[int]bool, v *verdict) {
	var ops []check.Op
	for _, r := range h {
		if !shared[r.in.Group] {
			continue
		}
		op := check.Op{Client: r.client, Input: r.in, Output: r.out, Call: r.call, Return: r.ret}
		switch {
		case r.in.Kind.IsWrite() && r.st == unknown:
			op.Output = check.Output{Unknown: true}
		case r.st != ok:
			continue
		case !r.in.Kind.IsWrite() && r.level != "strong":
			continue
		}
		ops = append(ops, op)
	}
	res, _, _ := check.Linearizable(ops, 5*time.Minute)
	switch res {
	case porcupine.Ok:
		v.pass("linearizable: %d writes and strong reads (porcupine, by key group)", len(ops))
	case porcupine.Illegal:
		v.fail("the history of writes and strong reads is not linearizable")
	default:
		v.fail("the linearizability check timed out on %d operations", len(ops))
	}
}

// checkSessions checks each session client's own keys: a read sees the session's last
// acknowledged write to the key or a later one (read-your-writes), never an older value than
// a read before it (monotonic reads), never a value nobody wrote; and once the cluster has
// healed, each key holds the last acknowledged write or a later one whose outcome was unknown
// (monotonic writes, no acknowledged write lost).
func checkSessions(h []*record, clients []*client, final map[string]check.Output, v *verdict) {
	reads, total := 0, 0
	for _, cl := range clients {
		if cl.level != "session" {
			continue
		}
		acked := map[int]int{} // slot → seq of the last acknowledged write
		seen := map[int]int{}  // slot → highest seq read
		issued := map[int]map[int]status{}
		for _, r := range h {
			if r.client != cl.id {
				continue
			}
			slot := r.in.Slot
			if r.in.Kind == check.Set {
				seq := seqOf(r.in.Arg)
				if issued[slot] == nil {
					issued[slot] = map[int]status{}
				}
				issued[slot][seq] = r.st
				if r.st == ok {
					acked[slot] = max(acked[slot], seq)
				}
				continue
			}
			total++
			if r.st != ok {
				continue
			}
			reads++
			key := check.Key(r.in.Group, slot)
			got := 0
			if !r.out.Nil {
				got = seqOf(r.out.Str)
				if st, ok := issued[slot][got]; !ok || st == refused {
					v.fail("c%d (session): read of %s on node %d returned %q, which it never wrote (or was told was refused)", cl.id, key, r.node, r.out.Str)
					continue
				}
			}
			if got < acked[slot] {
				v.fail("c%d (session): read of %s on node %d returned %s, older than its acknowledged write s%d.%d (read-your-writes)", cl.id, key, r.node, r.out, cl.id, acked[slot])
			}
			if got < seen[slot] {
				v.fail("c%d (session): read of %s on node %d returned %s after it had read s%d.%d (monotonic reads)", cl.id, key, r.node, r.out, cl.id, seen[slot])
			}
			seen[slot] = max(seen[slot], got)
		}
		for slot := range check.KeysPerGroup {
			key := check.Key(cl.own, slot)
			out, have := final[key]
			if !have {
				continue
			}
			got := 0
			if !out.Nil {
				got = seqOf(out.Str)
			}
			if got < acked[slot] {
				v.fail("c%d (session): %s ends as %s, but its write s%d.%d was acknowledged (lost write)", cl.id, key, out, cl.id, acked[slot])
			} else if got > acked[slot] && issued[slot][got] != unknown {
				v.fail("c%d (session): %s ends as %s, a write that was refused or never made", cl.id, key, out)
			}
		}
	}
	v.pass("session guarantees: %d of %d session reads checked (read-your-writes, monotonic reads); final values of the sessions' keys", reads, total)
}

func seqOf(v string) int {
	_, s, found := strings.Cut(v, ".")
	if !found {
		return -1
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return -1
	}
	return n
}

// awaitConvergence waits until, in every shard, every node has applied what the leader
// committed. It returns the total of the shards' commit indexes.
func awaitConvergence(ctx context.Context, c *cluster, timeout time.Duration) (uint64, error) {
	deadline := time.Now().Add(timeout)
	stable := 0
	var last string
	for time.Now().Before(deadline) {
		commits := map[string]uint64{}   // shard → leader's commit
		applied := map[string][]uint64{} // shard → every node's applied
		okAll := true
		for _, nd := range c.nodes {
			shards, err := shardStates(ctx, nd.addr)
			if err != nil {
				okAll = false
				last = fmt.Sprintf("node %d: %v", nd.id, err)
				break
			}
			for id, st := range shards {
				a, _ := strconv.ParseUint(st["applied"], 10, 64)
				applied[id] = append(applied[id], a)
				if st["role"] == "leader" {
					commits[id], _ = strconv.ParseUint(st["commit"], 10, 64)
				}
			}
		}
		if okAll && len(commits) > 0 && len(commits) == len(applied) {
			same := true
			total := uint64(0)
			for id, as := range applied {
				total += commits[id]
				for _, a := range as {
					if a != commits[id] || len(as) != len(c.nodes) {
						same = false
						last = fmt.Sprintf("shard %s: commit %d, applied %v", id, commits[id], as)
					}
				}
			}
			if same {
				stable++
				if stable == 3 {
					return total, nil
				}
			} else {
				stable = 0
			}
		} else if okAll {
			last = fmt.Sprintf("%d shards with a leader of %d", len(commits), len(applied))
		}
		time.Sleep(200 * time.Millisecond)
	}
	return 0, fmt.Errorf("no convergence in %v: %s", timeout, last)
}

// shardStates reads a node's raft_shard_N lines of INFO replication: per shard, its fields.
func shardStates(ctx context.Context, addr string) (map[string]map[string]string, error) {
	cl := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialTimeout: time.Second, ReadTimeout: time.Second, PoolSize: 1})
	defer cl.Close()
	s, err := cl.Info(ctx, "replication").Result()
	if err != nil {
		return nil, err
	}
	out := map[string]map[string]string{}
	for _, line := range strings.Split(s, "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), ":")
		id, isShard := strings.CutPrefix(k, "raft_shard_")
		if !ok || !isShard {
			continue
		}
		fields := map[string]string{}
		for _, f := range strings.Split(v, ",") {
			if fk, fv, ok := strings.Cut(f, "="); ok {
				fields[fk] = fv
			}
		}
		out[id] = fields
	}
	return out, nil
}

// dumpNode reads every key of a node's own copy (eventual reads).
func dumpNode(ctx context.Context, addr string) (map[string]string, error) {
	rc := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, PoolSize: 1, Protocol: 2})
	defer rc.Close()
	conn := rc.Conn()
	defer conn.Close()
	if err := conn.Do(ctx, "CONSISTENCY", "eventual").Err(); err != nil {
		return nil, err
	}
	keys, err := conn.Do(ctx, "KEYS", "*").StringSlice()
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, k := range keys {
		v, err := conn.Do(ctx, "GET", k).Text()
		if err != nil {
			return nil, fmt.Errorf("GET %s: %w", k, err)
		}
		out[k] = v
	}
	return out, nil
}

// checkConvergence compares every node's keys and values.
func checkConvergence(ctx context.Context, c *cluster, v *verdict) {
	commit, err := awaitConvergence(ctx, c, 60*time.Second)
	if err != nil {
		v.fail("replicas did not converge after healing: %v", err)
		return
	}
	var ref map[string]string
	for i, nd := range c.nodes {
		kv, err := dumpNode(ctx, nd.addr)
		if err != nil {
			v.fail("reading node %d: %v", nd.id, err)
			return
		}
		if i == 0 {
			ref = kv
			continue
		}
		if d := diffMaps(ref, kv); d != "" {
			v.fail("node %d and node %d differ after healing: %s", c.nodes[0].id, nd.id, d)
		}
	}
	v.pass("convergence: in every shard every node applied what was committed (%d entries in all), and every node holds the same %d keys with the same values", commit, len(ref))
}

func diffMaps(a, b map[string]string) string {
	var keys []string
	for k := range a {
		keys = append(keys, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		va, oka := a[k]
		vb, okb := b[k]
		if oka != okb || va != vb {
			return fmt.Sprintf("%s: %q (%v) against %q (%v)", k, va, oka, vb, okb)
		}
	}
	return ""
}
