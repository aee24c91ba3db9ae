package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"time"
)

// nemesis injects faults on a schedule drawn from the seed. At most one node is down (killed
// or paused) at a time, so the cluster keeps a majority for most of the run; partitions come
// on top of that.
type nemesis struct {
	c   *cluster
	rng *rand.Rand

	mu     sync.Mutex
	counts map[string]int
	wg     sync.WaitGroup
	down   *node // killed or paused
}

func (n *nemesis) count(what string) {
	n.mu.Lock()
	if n.counts == nil {
		n.counts = map[string]int{}
	}
	n.counts[what]++
	n.mu.Unlock()
}

func (n *nemesis) summary() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	var parts []string
	for _, k := range []string{"kill", "restart", "pause", "partition", "one-way", "isolate-leader"} {
		if n.counts[k] > 0 {
			parts = append(parts, fmt.Sprintf("%s=%d", k, n.counts[k]))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, " ")
}

func (n *nemesis) logf(format string, args ...any) {
	fmt.Printf("  %s %s\n", time.Now().Format("15:04:05.000"), fmt.Sprintf(format, args...))
}

// run injects faults for d, one every one to four seconds, each undone after a while.
func (n *nemesis) run(ctx context.Context, d time.Duration) {
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		time.Sleep(time.Duration(1000+n.rng.IntN(3000)) * time.Millisecond)
		switch p := n.rng.IntN(10); {
		case p < 3:
			n.kill()
		case p < 4:
			n.pause()
		case p < 6:
			n.partition()
		case p < 8:
			n.isolateLeader(ctx)
		default:
			n.oneWay()
		}
	}
	n.wg.Wait()
}

func (n *nemesis) later(d time.Duration, f func()) {
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		time.Sleep(d)
		f()
	}()
}

func (n *nemesis) span() time.Duration {
	return time.Duration(1000+n.rng.IntN(4000)) * time.Millisecond
}

func (n *nemesis) claimDown(nd *node) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.down != nil {
		return false
	}
	n.down = nd
	return true
}

func (n *nemesis) releaseDown() {
	n.mu.Lock()
	n.down = nil
	n.mu.Unlock()
}

func (n *nemesis) kill() {
	nd := n.c.nodes[n.rng.IntN(len(n.c.nodes))]
	if !n.claimDown(nd) {
		return
	}
	n.count("kill")
	n.logf("kill -9 node %d", nd.id)
	n.c.kill(nd)
	n.later(n.span(), func() {
		if err := n.c.start(nd); err != nil {
			n.logf("restart node %d: %v", nd.id, err)
		} else {
			n.count("restart")
			n.logf("restart node %d", nd.id)
		}
		n.releaseDown()
	})
}

func (n *nemesis) pause() {
	nd := n.c.nodes[n.rng.IntN(len(n.c.nodes))]
	if !n.claimDown(nd) {
		return
	}
	if !n.c.pause(nd) {
		n.releaseDown()
		return
	}
	n.count("pause")
	n.logf("pause node %d (SIGSTOP)", nd.id)
	n.later(n.span(), func() {
		n.c.resume(nd)
		n.logf("resume node %d", nd.id)
		n.releaseDown()
	})
}

// cut blocks links for a while.
func (n *nemesis) cut(what string, pairs [][2]uint64) {
	n.count(what)
	n.c.links.set(pairs, true)
	n.later(n.span(), func() {
		n.c.links.set(pairs, false)
		n.logf("heal %s %v", what, pairs)
	})
}

// partition cuts one random node off from the others, both ways.
func (n *nemesis) partition() {
	nd := n.c.nodes[n.rng.IntN(len(n.c.nodes))]
	n.logf("partition node %d from the others", nd.id)
	n.cut("partition", isolate(n.c, nd))
}

func (n *nemesis) isolateLeader(ctx context.Context) {
	l := n.c.leader(ctx)
	if l == nil {
		return
	}
	n.logf("isolate the leader, node %d", l.id)
	n.cut("isolate-leader", isolate(n.c, l))
}

// oneWay cuts the links from one node to the others (it hears them, they do not hear it), or
// the other way.
func (n *nemesis) oneWay() {
	nd := n.c.nodes[n.rng.IntN(len(n.c.nodes))]
	out := n.rng.IntN(2) == 0
	var pairs [][2]uint64
	for _, o := range n.c.nodes {
		if o == nd {
			continue
		}
		if out {
			pairs = append(pairs, [2]uint64{nd.id, o.id})
		} else {
			pairs = append(pairs, [2]uint64{o.id, nd.id})
		}
	}
	n.logf("one-way cut %v", pairs)
	n.cut("one-way", pairs)
}

func isolate(c *cluster, nd *node) [][2]uint64 {
	var pairs [][2]uint64
	for _, o := range c.nodes {
		if o != nd {
			pairs = append(pairs, [2]uint64{nd.id, o.id}, [2]uint64{o.id, nd.id})
		}
	}
	return pairs
}

// healAll undoes every fault.
func (n *nemesis) healAll() {
	n.wg.Wait()
	n.c.links.healAll()
	for _, nd := range n.c.nodes {
		n.c.resume(nd)
		if !nd.running() && !nd.crashed() {
			_ = n.c.start(nd)
		}
	}
}
