package sim

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/cairn-db/cairn/tests/check"
)

// The client side of Version4: operations as RESP requests sent to nodes, replies parsed, and
// redirections followed as a Redis Cluster client follows them.

const (
	// clientReadTimeout is how long a client waits for a read's reply: longer than the node's
	// own gate timeout, which answers first unless the node is paused or gone.
	clientReadTimeout = parkTimeout + time.Second
	// maxRedirects is how many -MOVED replies in a row a client follows for one request.
	maxRedirects = 5
)

// clientLatency is the time a request or a reply spends between a client and a node.
func (w *World) clientLatency() time.Duration {
	return w.between(100*time.Microsecond, 2*time.Millisecond)
}

// nextRouted draws an operation of Version4: the single-key operations of before, MSET and
// transactions within a group, and now and then a request over two groups in different slots,
// which the cluster must refuse.
func (c *Client) nextRouted() check.Input {
	w := c.w
	c.seq++
	in := check.Input{Group: w.groups[w.rng.IntN(len(w.groups))], Slot: w.rng.IntN(check.KeysPerGroup)}
	other := func() int { return (in.Slot + 1 + w.rng.IntN(check.KeysPerGroup-1)) % check.KeysPerGroup }
	switch p := w.rng.IntN(100); {
	case p < 33:
		in.Kind = check.Get
	case p < 50:
		in.Kind = check.Set
		if w.rng.IntN(2) == 0 {
			in.Arg = strconv.Itoa(w.rng.IntN(100))
		} else {
			in.Arg = fmt.Sprintf("v%d.%d", c.id, c.seq)
		}
	case p < 66:
		in.Kind = check.Incr
	case p < 82:
		in.Kind = check.Append
		if w.rng.IntN(5) < 3 {
			in.Arg = strconv.Itoa(w.rng.IntN(10))
		} else {
			in.Arg = fmt.Sprintf("x%d.%d", c.id, c.seq)
		}
	case p < 90:
		in.Kind = check.Txn
		in.Slot2 = other()
		in.Arg = strconv.Itoa(w.rng.IntN(10))
	case p < 95:
		in.Kind = check.MSet
		in.Slot2 = other()
		in.Arg = fmt.Sprintf("m%d.%d", c.id, c.seq)
	default:
		// A request over two groups in different slots, with a value of its own, so that the
		// checkers can tell it never reached a log.
		in.Kind = check.MSet
		if w.rng.IntN(2) == 0 {
			in.Kind = check.Txn
		}
		in.Cross = true
		in.Slot2 = w.rng.IntN(check.KeysPerGroup)
		in.Arg = fmt.Sprintf("cross%d.%d", c.id, c.seq)
		for {
			in.Group2 = w.groups[w.rng.IntN(len(w.groups))]
			if w.groupSlot[in.Group2] != w.groupSlot[in.Group] {
				break
			}
		}
	}
	return in
}

// startRouted sends an operation to node target, or if it is -1 to the node the client's slot
// map names (a write) or to any node (a read).
func (c *Client) startRouted(rec *Record, target int) {
	w := c.w
	in := rec.Input
	if in.Cross {
		rec.Shard = 0
	}
	w.hist.add(rec)
	write := in.Kind.IsWrite()
	timeout, outcome, why := writeTimeout, Unknown, "client timeout"
	if !write {
		timeout, outcome, why = clientReadTimeout, Refused, "client timeout"
	}
	w.after(timeout, func() {
		if rec.Status == Pending {
			c.hangUp(rec.Node)
			c.finish(rec, outcome, why)
		}
	})
	switch {
	case target >= 0:
	case write:
		target = c.slotNode[w.groupSlot[in.Group]]
	default:
		target = w.pick().idx
	}
	c.send(rec, target)
}

// request is the RESP encoding of an operation: reads at the client's level, a transaction as
// MULTI, its commands and EXEC in one pipeline. It returns the bytes and how many replies they
// get.
func (c *Client) request(rec *Record) ([]byte, int) {
	var cmds [][]string
	in := rec.Input
	switch {
	case in.Kind == check.Txn:
		cmds = append(cmds, []string{"MULTI"})
		cmds = append(cmds, in.Args()...)
		cmds = append(cmds, []string{"EXEC"})
	case !in.Kind.IsWrite():
		cmds = [][]string{append([]string{"CONSISTENCY", rec.Level.String()}, in.Args()[0]...)}
	default:
		cmds = in.Args()
	}
	if rec.Asking {
		cmds = append([][]string{{"ASKING"}}, cmds...)
	}
	var b []byte
	for _, cmd := range cmds {
		b = fmt.Appendf(b, "*%d\r\n", len(cmd))
		for _, a := range cmd {
			b = fmt.Appendf(b, "$%d\r\n%s\r\n", len(a), a)
		}
	}
	return b, len(cmds)
}

// send sends the request to a node over the client's connection to it.
func (c *Client) send(rec *Record, idx int) {
	w := c.w
	n := w.nodes[idx]
	rec.Node = idx
	w.tracef("c%d %s %s -> %s", c.id, rec.Level, rec.Input, n.name)
	if n.gone || !n.up {
		c.repoint(rec)
		c.finish(rec, Refused, "connection refused")
		return
	}
	cn := c.connTo(n)
	req, _ := c.request(rec)
	w.after(w.clientLatency(), func() {
		if rec.Status != Pending || c.cur != rec {
			return
		}
		if !cn.alive() {
			// The process died while the request was on its way: it never arrived.
			c.repoint(rec)
			c.finish(rec, Refused, "connection refused")
			return
		}
		if cn.rec != nil {
			w.problem("c%d sent %s to %s while its request %s was still served there", c.id, rec.Input, n.name, cn.rec.Input)
		}
		cn.rec = rec
		n.whenRunning(func() {
			if cn.alive() && cn.rec == rec && rec.Status == Pending {
				cn.serve(rec, req)
			}
		})
	})
}

// repoint sends the slot's next writes to another node, as a cluster client refreshes its slot
// map from another node when the one it had fails.
func (c *Client) repoint(rec *Record) {
	if rec.Input.Kind.IsWrite() {
		c.slotNode[c.w.groupSlot[rec.Input.Group]] = c.w.pick().idx
	}
}

// onReply takes a request's replies: a -MOVED is followed, a -TRYAGAIN or -CLUSTERDOWN is a
// refusal, an error saying the write's outcome is unknown leaves it unknown, and anything else
// is the operation's reply.
func (c *Client) onReply(rec *Record, b []byte) {
	w := c.w
	if rec.Status != Pending {
		return
	}
	_, want := c.request(rec)
	var outs []check.Output
	for rest := b; len(rest) > 0 && len(outs) < want; {
		out, next, err := parseOne(rest)
		if err != nil {
			break
		}
		outs, rest = append(outs, out), next
	}
	if len(outs) != want {
		w.problem("c%d: reply %q to %s is not %d replies", c.id, b, rec.Input, want)
		c.finish(rec, Unknown, "unreadable reply")
		return
	}
	if rec.Asking {
		if outs[0].Str != "OK" {
			w.problem("c%d: %s answered %s to ASKING", c.id, rec.Input, outs[0])
		}
		outs, want = outs[1:], want-1
	}
	last := outs[want-1]
	if rec.Input.Kind == check.Txn && !rec.Input.Cross && last.Err == "" {
		for i, o := range outs[:want-1] {
			ack := "QUEUED"
			if i == 0 {
				ack = "OK" // MULTI's
			}
			if o.Str != ack {
				w.problem("c%d: %s answered %s to its command %d, not %s", c.id, rec.Input, o, i, ack)
			}
		}
	}
	switch msg := last.Err; {
	case strings.HasPrefix(msg, "MOVED "):
		c.moved(rec, msg)
	case strings.HasPrefix(msg, "ASK ") && w.cfg.Version >= Version5:
		c.ask(rec, msg)
	case strings.HasPrefix(msg, "TRYAGAIN "), strings.HasPrefix(msg, "CLUSTERDOWN "):
		c.finish(rec, Refused, msg)
	case outcomeUnknown(msg):
		c.finish(rec, Unknown, msg)
	default:
		rec.Output = last
		c.finish(rec, OK, "")
	}
}

// redirectTarget reads the slot and node of a -MOVED or -ASK reply ("MOVED <slot> n<id>"). A
// reply that names another slot than the request's, or no node, is a problem: the request is
// finished as refused and ok is false.
func (c *Client) redirectTarget(rec *Record, msg string) (sl, idx int, ok bool) {
	w := c.w
	f := strings.Fields(msg)
	sl, err := strconv.Atoi(f[1])
	idx = -1
	if len(f) == 3 && strings.HasPrefix(f[2], "n") {
		if id, err := strconv.Atoi(f[2][1:]); err == nil && id >= 1 && id <= len(w.nodes) {
			idx = id - 1
		}
	}
	if err != nil || idx < 0 || sl != w.groupSlot[rec.Input.Group] {
		w.problem("c%d: %s got %q, which names another slot or no node", c.id, rec.Input, msg)
		c.finish(rec, Refused, msg)
		return 0, 0, false
	}
	return sl, idx, true
}

// moved follows a -MOVED reply to the node it names, and keeps that node for the slot.
func (c *Client) moved(rec *Record, msg string) {
	w := c.w
	sl, idx, ok := c.redirectTarget(rec, msg)
	if !ok {
		return
	}
	rec.Redirects++
	rec.Asking = false
	if rec.Input.Kind.IsWrite() {
		c.slotNode[sl] = idx
	}
	if rec.Redirects > maxRedirects {
		c.finish(rec, Refused, "too many redirections: "+msg)
		return
	}
	w.tracef("c%d %s: %s", c.id, rec.Input, msg)
	c.send(rec, idx)
}

// ask follows an -ASK reply: the request goes once to the node it names, preceded by ASKING,
// and the slot map stays as it is (the slot still belongs to the source).
func (c *Client) ask(rec *Record, msg string) {
	w := c.w
	_, idx, ok := c.redirectTarget(rec, msg)
	if !ok {
		return
	}
	rec.Redirects++
	rec.Asks++
	rec.Asking = true
	if rec.Redirects > maxRedirects {
		c.finish(rec, Refused, "too many redirections: "+msg)
		return
	}
	w.tracef("c%d %s: %s", c.id, rec.Input, msg)
	c.send(rec, idx)
}

// connLost is a connection's end while a request was on it: a write's outcome is unknown, a
// read failed.
func (c *Client) connLost(rec *Record) {
	if rec.Status != Pending {
		return
	}
	if rec.Input.Kind.IsWrite() {
		c.finish(rec, Unknown, "connection lost")
		return
	}
	c.finish(rec, Refused, "connection lost")
}

// notePosition raises the session's position in a shard.
func (c *Client) notePosition(shard, index uint64) {
	c.pos[shard] = max(c.pos[shard], index)
}
