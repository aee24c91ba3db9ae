package sim

import (
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"time"
)

// Versions of the simulation. A new kind of fault changes what every seed does; a seed is
// replayed at the version it was found with, so the regression table keeps meaning.
const (
	// Version1 is the first: network, partitions, crashes, disk failures, clock jumps, slow
	// disks, pauses.
	Version1 = 1
	// Version2 adds snapshot streams damaged in transit.
	Version2 = 2
	// Version3 adds membership changes: a node replaced by a new one under a new ID (it joins
	// as a learner, is promoted, then the old one is removed).
	Version3 = 3
	// Version4 routes like a cluster server: shards placed by cluster.Bootstrap (2 to 8 per
	// node, 3 replicas each), clients speaking RESP to nodes that parse, route (MOVED,
	// CROSSSLOT, CLUSTERDOWN) and queue MULTI as the server does, cross-slot requests, latency
	// between clients and nodes, and apply work sometimes left for a later event.
	Version4 = 4
	// Version5 moves slots between shards (MIGRATE-SLOTS, with its cancel), splits and merges
	// shards, through the production meta state machine and applier: clients follow -ASK
	// with ASKING and record -TRYAGAIN; the checkers follow keys from shard to shard.
	Version5 = 5
	// Latest is what new seeds run.
	Latest = Version5
)

// Config is one run. Zero fields are drawn from the seed, so a seed alone names a run.
type Config struct {
	Seed uint64
	// Version is the simulation version (0: Latest).
	Version int
	Nodes   int // 3 or 5
	// Shards is how many Raft groups hold data: before Version4 1 to 3, each on every node;
	// from Version4 2 to 8 per node, each on Replicas nodes.
	Shards   int
	Replicas int // replicas of each shard (Version4; before, every node holds every shard)
	Clients  int
	Groups   int // groups of keys (check.KeysPerGroup keys sharing a hash tag)
	// Duration is how long faults are injected; the run then heals and checks.
	Duration time.Duration
	// SnapshotEntries and KeepEntries are the Raft hosts' (small, so that snapshots, log
	// compaction and snapshot streams happen often).
	SnapshotEntries, KeepEntries uint64
	// NoFaults runs the workload on a healthy cluster.
	NoFaults bool
	// Trace, if set, receives every event of the trace as a line.
	Trace io.Writer
}

// Timing of the simulated nodes: a 100 ms Raft tick and a 1 s base election timeout, as a
// server with cluster-node-timeout 1000 would have.
const (
	tickInterval  = 100 * time.Millisecond
	electionTicks = 10
)

func (c Config) resolve() Config {
	if c.Version == 0 {
		c.Version = Latest
	}
	r := rand.New(rand.NewPCG(c.Seed, 0xc0ffee))
	if c.Nodes == 0 {
		c.Nodes = []int{3, 3, 5}[r.IntN(3)]
	}
	if c.Replicas == 0 {
		c.Replicas = c.Nodes
		if c.Version >= Version4 {
			c.Replicas = min(3, c.Nodes)
		}
	}
	if c.Shards == 0 {
		if c.Version >= Version4 {
			perNode := 2 + r.IntN(7)
			c.Shards = (perNode*c.Nodes + c.Replicas - 1) / c.Replicas
		} else {
			c.Shards = 1 + r.IntN(3)
		}
	}
	if c.Clients == 0 {
		c.Clients = 4 + r.IntN(6)
	}
	if c.Groups == 0 {
		if c.Version >= Version4 {
			// At least one group in every shard, and some shards with several.
			c.Groups = c.Shards + r.IntN(c.Shards+3)
		} else {
			c.Groups = 3*c.Shards + r.IntN(4)
		}
	}
	if c.Duration == 0 {
		c.Duration = 20 * time.Second
	}
	if c.SnapshotEntries == 0 {
		c.SnapshotEntries = uint64(20 + r.IntN(200))
	}
	if c.KeepEntries == 0 {
		c.KeepEntries = uint64(5 + r.IntN(40))
	}
	return c
}

func (c Config) String() string {
	shards := fmt.Sprint(c.Shards)
	if c.Version >= Version4 {
		shards += fmt.Sprintf(" replicas=%d", c.Replicas)
	}
	return fmt.Sprintf("v%d nodes=%d shards=%s clients=%d groups=%d duration=%v snapshot-every=%d keep=%d",
		c.Version, c.Nodes, shards, c.Clients, c.Groups, c.Duration, c.SnapshotEntries, c.KeepEntries)
}

// Faults counts what was injected.
type Faults struct {
	Partitions, OneWay, LeaderIsolations int
	Crashes, DiskFailures, Restarts      int
	ClockJumps, SlowDisks, LossBursts    int
	Pauses, Replacements                 int
	// Version5: slot moves, cancels, splits and merges asked for (the meta group may refuse
	// some: a shard busy with another).
	SlotMoves, MoveCancels, Splits, Merges int
	// ApplyLater counts the steps that left their apply work for a later event (Version4).
	ApplyLater int
	// Network: payloads dropped (by chance or partition), duplicated, delayed by a spike.
	Dropped, Duplicated, Spikes, Delivered int
	SnapshotsSent, SnapshotsDropped        int
	SnapshotsCorrupted, SnapshotsRefused   int
}

func (f Faults) String() string {
	var parts []string
	add := func(name string, n int) {
		if n > 0 {
			parts = append(parts, fmt.Sprintf("%s=%d", name, n))
		}
	}
	add("partition", f.Partitions)
	add("one-way", f.OneWay)
	add("isolate-leader", f.LeaderIsolations)
	add("crash", f.Crashes)
	add("disk-failure", f.DiskFailures)
	add("restart", f.Restarts)
	add("clock-jump", f.ClockJumps)
	add("slow-disk", f.SlowDisks)
	add("loss-burst", f.LossBursts)
	add("pause", f.Pauses)
	add("replace-node", f.Replacements)
	add("slot-move", f.SlotMoves)
	add("move-cancel", f.MoveCancels)
	add("split", f.Splits)
	add("merge", f.Merges)
	add("apply-later", f.ApplyLater)
	add("msgs-dropped", f.Dropped)
	add("msgs-duplicated", f.Duplicated)
	add("msgs-delayed", f.Spikes)
	add("msgs-delivered", f.Delivered)
	add("snapshots-sent", f.SnapshotsSent)
	add("snapshots-lost", f.SnapshotsDropped)
	add("snapshots-damaged", f.SnapshotsCorrupted)
	add("snapshots-refused", f.SnapshotsRefused)
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, " ")
}

// OpStats counts the operations of a run by outcome.
type OpStats struct {
	Writes, Acked, Unknown, Refused        int
	Reads, Strong, Session, Eventual, Fail int
	LogEntries                             int
	// CrossSlot counts cross-slot requests; Moved the -MOVED redirections clients followed.
	CrossSlot, Moved int
	// Asked counts the -ASK redirections clients followed (Version5).
	Asked int
}

func (s OpStats) String() string {
	out := fmt.Sprintf("writes=%d (acked %d, unknown %d, refused %d) reads=%d (strong %d, session %d, eventual %d, failed %d) log-entries=%d",
		s.Writes, s.Acked, s.Unknown, s.Refused, s.Reads, s.Strong, s.Session, s.Eventual, s.Fail, s.LogEntries)
	if s.CrossSlot > 0 || s.Moved > 0 {
		out += fmt.Sprintf(" cross-slot=%d moved=%d", s.CrossSlot, s.Moved)
	}
	if s.Asked > 0 {
		out += fmt.Sprintf(" asked=%d", s.Asked)
	}
	return out
}

// Result is what a run found.
type Result struct {
	Config    Config
	TraceHash string
	Faults    Faults
	Ops       OpStats
	// Checks lists the checks that ran, each with what it covered.
	Checks []string
	// Violations is empty when every check passed.
	Violations []string
}
