package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cairn-db/cairn/tests/check"
)

// status is how an operation ended.
type status int

const (
	ok      status = iota
	unknown        // a write whose outcome the client never learned
	refused        // certainly not applied (a write), or failed (a read)
)

// record is one operation as its client saw it.
type record struct {
	client int
	level  string
	node   uint64
	in     check.Input
	out    check.Output
	st     status
	why    string
	call   int64 // ns since the run started
	ret    int64
}

type history struct {
	mu  sync.Mutex
	ops []*record
}

func (h *history) add(r *record) {
	h.mu.Lock()
	h.ops = append(h.ops, r)
	h.mu.Unlock()
}

// client is one connection's worth of operations, one at a time, at one consistency level.
// Strong and eventual clients share groups of keys with everyone; a session client owns a group
// (it is the only writer there, with unique values, so what it reads names the write it saw)
// and carries its session token when it moves to another node.
type client struct {
	id     int
	level  string
	c      *cluster
	h      *history
	rng    *rand.Rand
	start  time.Time
	groups []int // the shared groups
	own    int   // a session client's group

	nd    *node
	rc    *redis.Client
	conn  *redis.Conn
	token string
	seq   int
}

func (cl *client) now() int64 { return int64(time.Since(cl.start)) }

// connect opens a connection to a random node, at the client's level, resuming its session.
func (cl *client) connect(ctx context.Context) error {
	cl.disconnect()
	nd := cl.c.nodes[cl.rng.IntN(len(cl.c.nodes))]
	rc := redis.NewClient(&redis.Options{Addr: nd.addr, MaxRetries: -1, PoolSize: 1, Protocol: 2,
		DialTimeout: 500 * time.Millisecond, ReadTimeout: 10 * time.Second, WriteTimeout: 2 * time.Second})
	conn := rc.Conn()
	setup := func() error {
		if cl.level != "strong" {
			if err := conn.Do(ctx, "CONSISTENCY", cl.level).Err(); err != nil {
				return err
			}
		}
		if cl.token != "" {
			return conn.Do(ctx, "SESSION", "RESUME", cl.token).Err()
		}
		return nil
	}
	if err := setup(); err != nil {
		conn.Close()
		rc.Close()
		return err
	}
	cl.nd, cl.rc, cl.conn = nd, rc, conn
	return nil
}

func (cl *client) disconnect() {
	if cl.conn != nil {
		cl.conn.Close()
		cl.rc.Close()
	}
	cl.nd, cl.rc, cl.conn = nil, nil, nil
}

// run issues operations until ctx ends.
func (cl *client) run(ctx context.Context) {
	defer cl.disconnect()
	for ctx.Err() == nil {
		if cl.conn == nil {
			if err := cl.connect(ctx); err != nil {
				time.Sleep(50 * time.Millisecond)
				continue
			}
		}
		cl.do(ctx, cl.next())
		if cl.level == "session" && cl.rng.IntN(10) == 0 {
			cl.disconnect() // move to another node, taking the session along
		}
		time.Sleep(time.Duration(cl.rng.IntN(3)) * time.Millisecond)
	}
}

// next draws an operation.
func (cl *client) next() check.Input {
	r := cl.rng
	if cl.level == "session" {
		in := check.Input{Kind: check.Get, Group: cl.own, Slot: r.IntN(check.KeysPerGroup)}
		if r.IntN(2) == 0 {
			cl.seq++
			in.Kind, in.Arg = check.Set, sessionValue(cl.id, cl.seq)
		}
		return in
	}
	in := check.Input{Group: cl.groups[r.IntN(len(cl.groups))], Slot: r.IntN(check.KeysPerGroup)}
	switch p := r.IntN(100); {
	case p < 40:
		in.Kind = check.Get
	case p < 58:
		in.Kind = check.Set
		cl.seq++
		if r.IntN(2) == 0 {
			in.Arg = strconv.Itoa(r.IntN(100))
		} else {
			in.Arg = fmt.Sprintf("v%d.%d", cl.id, cl.seq)
		}
	case p < 76:
		in.Kind = check.Incr
	case p < 92:
		in.Kind = check.Append
		in.Arg = strconv.Itoa(r.IntN(10))
	default:
		in.Kind = check.Txn
		in.Slot2 = (in.Slot + 1 + r.IntN(check.KeysPerGroup-1)) % check.KeysPerGroup
		in.Arg = strconv.Itoa(r.IntN(10))
	}
	return in
}

func sessionValue(client, seq int) string { return fmt.Sprintf("s%d.%d", client, seq) }

// do runs one operation and records it.
func (cl *client) do(ctx context.Context, in check.Input) {
	rec := &record{client: cl.id, level: cl.level, node: cl.nd.id, in: in, call: cl.now()}
	if in.Kind.IsWrite() {
		rec.level = "strong"
	}
	var (
		val any
		err error
	)
	args := in.Args()
	if in.Kind == check.Txn {
		val, err = cl.txn(ctx, args)
	} else {
		val, err = cl.conn.Do(ctx, toAny(args[0])...).Result()
	}
	rec.ret = cl.now()
	rec.out, rec.st, rec.why = classify(in.Kind.IsWrite(), val, err)
	cl.h.add(rec)
	if rec.st != ok {
		// A broken connection is in an unknown state; a node that refused (no leader on its side
		// of a partition) is worth leaving.
		cl.disconnect()
		return
	}
	if cl.level == "session" {
		if tok, err := cl.conn.Do(ctx, "SESSION", "TOKEN").Text(); err == nil {
			cl.token = tok
		}
	}
}

func (cl *client) txn(ctx context.Context, cmds [][]string) (any, error) {
	if err := cl.conn.Do(ctx, "MULTI").Err(); err != nil {
		return nil, err
	}
	for _, c := range cmds {
		if err := cl.conn.Do(ctx, toAny(c)...).Err(); err != nil {
			return nil, err
		}
	}
	return cl.conn.Do(ctx, "EXEC").Result()
}

func toAny(args []string) []any {
	out := make([]any, len(args))
	for i, a := range args {
		out[i] = a
	}
	return out
}

// classify turns a reply into the model's output and the operation's fate. Errors the server
// gives for the cluster's state say whether the write was applied: TRYAGAIN, MOVED,
// CLUSTERDOWN and READONLY mean it was not; "outcome is unknown" and "shutting down" mean the
// server does not know. Anything else that is not a reply (a timeout, a broken connection)
// leaves a write's outcome unknown.
func classify(write bool, val any, err error) (check.Output, status, string) {
	if errors.Is(err, redis.Nil) {
		return check.Output{Nil: true}, ok, ""
	}
	if err != nil {
		var re redis.Error
		if !errors.As(err, &re) {
			if write {
				return check.Output{}, unknown, err.Error()
			}
			return check.Output{}, refused, err.Error()
		}
		msg := re.Error()
		switch {
		case clusterError(msg):
			return check.Output{}, refused, msg
		case outcomeUnknown(msg):
			if write {
				return check.Output{}, unknown, msg
			}
			return check.Output{}, refused, msg
		}
		return check.Output{Err: msg}, ok, ""
	}
	return toOutput(val), ok, ""
}

func clusterError(msg string) bool {
	for _, p := range []string{"TRYAGAIN", "MOVED", "ASK", "CLUSTERDOWN", "READONLY", "LOADING", "EXECABORT"} {
		if strings.HasPrefix(msg, p+" ") || msg == p {
			return true
		}
	}
	return false
}

func outcomeUnknown(msg string) bool {
	return strings.Contains(msg, "outcome is unknown") || strings.Contains(msg, "outcome of the write is unknown") ||
		strings.Contains(msg, "storage failed")
}

func toOutput(v any) check.Output {
	switch x := v.(type) {
	case nil:
		return check.Output{Nil: true}
	case string:
		return check.Output{Str: x}
	case int64:
		return check.Output{Int: x, IsInt: true}
	case redis.Error:
		return check.Output{Err: x.Error()}
	case error:
		return check.Output{Err: x.Error()}
	case []any:
		out := check.Output{Multi: []check.Output{}}
		for _, e := range x {
			out.Multi = append(out.Multi, toOutput(e))
		}
		return out
	}
	return check.Output{Err: fmt.Sprintf("unexpected reply %T %v", v, v)}
}
