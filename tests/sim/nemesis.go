package sim

import (
	"time"
)

// nemesis injects one fault every little while until the fault phase ends. Faults overlap:
// a crash can come during a partition, a clock jump on a slow node.
func (w *World) nemesis(until time.Duration) {
	w.after(w.between(300*time.Millisecond, 2500*time.Millisecond), func() {
		if w.now >= until {
			return
		}
		w.injectFault()
		w.nemesis(until)
	})
}

func (w *World) injectFault() {
	faults := []struct {
		weight int
		run    func()
	}{
		{3, w.partition},
		{2, w.isolateLeader},
		{2, w.oneWay},
		{3, w.crashNode},
		{1, w.diskFailure},
		{2, w.clockJump},
		{2, w.slowDisk},
		{1, w.lossBurst},
		{2, w.pause},
	}
	if w.cfg.Version >= Version3 {
		faults = append(faults, struct {
			weight int
			run    func()
		}{1, w.replaceNode})
	}
	total := 0
	for _, f := range faults {
		total += f.weight
	}
	p := w.rng.IntN(total)
	for _, f := range faults {
		if p < f.weight {
			f.run()
			return
		}
		p -= f.weight
	}
}

// healLater undoes a fault after a while.
func (w *World) healLater(lo, hi time.Duration, heal func()) {
	w.after(w.between(lo, hi), heal)
}

// cutLinks blocks the given links and restores them later (unless already cut by another fault,
// which then owns them).
func (w *World) cutLinks(links [][2]uint64) {
	var mine [][2]uint64
	for _, l := range links {
		if !w.net.blocked[l] {
			w.net.blocked[l] = true
			mine = append(mine, l)
		}
	}
	w.healLater(time.Second, 6*time.Second, func() {
		for _, l := range mine {
			delete(w.net.blocked, l)
		}
		w.tracef("heal %v", mine)
	})
}

// partition splits the nodes into two sides that cannot talk to each other.
func (w *World) partition() {
	var a, b []uint64
	for _, n := range w.activeNodes() {
		if w.rng.IntN(2) == 0 {
			a = append(a, n.id)
		} else {
			b = append(b, n.id)
		}
	}
	if len(a) == 0 || len(b) == 0 {
		return
	}
	w.faults.Partitions++
	w.tracef("partition %v | %v", a, b)
	var links [][2]uint64
	for _, x := range a {
		for _, y := range b {
			links = append(links, [2]uint64{x, y}, [2]uint64{y, x})
		}
	}
	w.cutLinks(links)
}

// isolateLeader cuts a shard's leader off from every other node.
func (w *World) isolateLeader() {
	shard := uint64(1 + w.rng.IntN(w.cfg.Shards))
	var lead *Node
	for _, n := range w.activeNodes() {
		if s := n.shard(shard); n.up && s != nil && s.raft.IsLeader() {
			lead = n
		}
	}
	if lead == nil {
		return
	}
	w.faults.LeaderIsolations++
	w.tracef("isolate %s, leader of shard %d", lead.name, shard)
	var links [][2]uint64
	for _, n := range w.activeNodes() {
		if n != lead {
			links = append(links, [2]uint64{lead.id, n.id}, [2]uint64{n.id, lead.id})
		}
	}
	w.cutLinks(links)
}

// oneWay cuts one direction between a node and the others (or one other).
func (w *World) oneWay() {
	a := w.pick()
	inbound := w.rng.IntN(2) == 0
	var links [][2]uint64
	for _, n := range w.activeNodes() {
		if n == a || (len(links) > 0 && w.rng.IntN(2) == 0) {
			continue
		}
		if inbound {
			links = append(links, [2]uint64{n.id, a.id})
		} else {
			links = append(links, [2]uint64{a.id, n.id})
		}
	}
	w.faults.OneWay++
	w.tracef("one-way cut %v", links)
	w.cutLinks(links)
}

// crashNode kills a node; it restarts from what its disk synced.
func (w *World) crashNode() {
	n := w.pick()
	if !n.up {
		return
	}
	w.faults.Crashes++
	n.crash("killed")
	w.after(w.between(200*time.Millisecond, 4*time.Second), n.restart)
}

// diskFailure makes a node's disk fail its fsyncs (or fill up) for a while: the node stops at
// its next sync and can come back once the disk works.
func (w *World) diskFailure() {
	n := w.pick()
	if n.fault.active() {
		return
	}
	mode := diskSyncErrors
	if w.rng.IntN(2) == 0 {
		mode = diskFull
	}
	w.tracef("%s disk: %s", n.name, mode)
	n.fault.set(mode)
	w.healLater(300*time.Millisecond, 3*time.Second, func() {
		n.fault.set(diskOK)
		w.tracef("%s disk: ok", n.name)
	})
}

// clockJump moves a node's clock, forwards or back.
func (w *World) clockJump() {
	n := w.pick()
	d := w.between(time.Second, 90*time.Second)
	if w.rng.IntN(2) == 0 {
		d = -d
	}
	n.clock.offset += d
	w.faults.ClockJumps++
	w.tracef("%s clock jumps %v", n.name, d)
}

// slowDisk makes a node's rounds take long for a while.
func (w *World) slowDisk() {
	n := w.pick()
	if n.slow > 0 {
		return
	}
	n.slow = w.between(5*time.Millisecond, 300*time.Millisecond)
	w.faults.SlowDisks++
	w.tracef("%s disk slow: %v a round", n.name, n.slow)
	w.healLater(time.Second, 5*time.Second, func() {
		n.slow = 0
		w.tracef("%s disk fast again", n.name)
	})
}

// pause stops a node's process for a while (preferring a leader: the classic trap is a leader
// that wakes up believing it still leads).
func (w *World) pause() {
	n := w.pick()
	if w.rng.IntN(2) == 0 {
		shard := uint64(1 + w.rng.IntN(w.cfg.Shards))
		for _, m := range w.activeNodes() {
			if s := m.shard(shard); m.up && s != nil && s.raft.IsLeader() {
				n = m
			}
		}
	}
	if !n.up || n.paused {
		return
	}
	n.paused = true
	w.faults.Pauses++
	w.tracef("%s paused", n.name)
	w.healLater(500*time.Millisecond, 5*time.Second, n.resume)
}

// lossBurst drops many payloads for a while.
func (w *World) lossBurst() {
	if w.net.drop > 0.05 {
		return
	}
	old := w.net.drop
	w.net.drop = 0.2 + 0.5*w.rng.Float64()
	w.faults.LossBursts++
	w.tracef("loss burst %.2f", w.net.drop)
	w.healLater(500*time.Millisecond, 3*time.Second, func() {
		if !w.healed {
			w.net.drop = old
			w.tracef("loss burst over")
		}
	})
}

// healAll ends every fault: links back, disks well, crashed nodes restarted.
func (w *World) healAll() {
	w.net.blocked = map[[2]uint64]bool{}
	w.healed = true
	w.net.drop, w.net.dup, w.net.spike, w.net.corruptSnap = 0, 0, 0, 0
	for _, n := range w.activeNodes() {
		n.fault.set(diskOK)
		n.slow = 0
		n.resume()
		if !n.up {
			w.faults.Restarts++
			n.start()
		}
	}
	w.tracef("healed")
}
