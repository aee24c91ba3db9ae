package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/cairn-db/cairn/internal/command"
	"github.com/cairn-db/cairn/internal/resp"
	"github.com/cairn-db/cairn/internal/search"
	"github.com/cairn-db/cairn/internal/shard"
)

// FT.* in cluster mode. Each shard indexes its own keys: an index definition lives in every
// shard's log and storage, and its records beside that shard's data, kept in the same batch as
// every write there. So:
//
//   - FT.CREATE, FT.DROPINDEX, FT.ALTER and the alias commands are proposed to every shard
//     through its leader (retried through leader changes) and answered once every shard has
//     applied them. They converge: a shard that already has what the command makes (an earlier
//     attempt reached it) counts as done, so a command that failed part way is retried whole.
//   - FT.SEARCH, FT.AGGREGATE and FT.INFO ask every shard for its part (search/cluster.go) and
//     merge; FT._LIST and FT.TAGVALS take the union; FT.EXPLAIN runs on one shard.
//
// Reads run after a read index at strong and session level (so a query sees every write
// acknowledged before it, on any shard), and on this node's own replicas at eventual level or
// after READONLY. Everything waits off the event loop: the reply fills a place reserved for it.

// errNotRead answers a shard read that is not one.
var errNotRead = errors.New("not a read")

// ddlRetryFor bounds how long an FT.* definition command keeps retrying a shard whose leader is
// changing or unknown.
const ddlRetryFor = 15 * time.Second

// isSearchCommand reports whether cmd is an FT.* command a cluster node runs over every shard.
func isSearchCommand(cmd *command.Command) bool { return cmd.Group == "search" }

// searchCluster runs an FT.* command over the cluster's shards. It reports whether processing
// must stop (the reply comes later).
func (s *Server) searchCluster(cl *Client, r *request, cmd *command.Command, args [][]byte) bool {
	w := &cl.loop.w
	// Arguments a shard would refuse are refused here, before asking every shard.
	switch cmd.Name {
	case "ft.search":
		if msg := search.ValidateSearch(args[1:]); msg != "" {
			w.Error(msg)
			return false
		}
	case "ft.aggregate":
		if msg := search.ValidateAggregate(args[1:]); msg != "" {
			w.Error(msg)
			return false
		}
	}
	lv := r.level
	if lv == levelDefault {
		lv = cl.cs.level
	}
	local := !cmd.IsWrite() && (lv == levelEventual || cl.cs.readonly)
	args = copyArgs(args)
	db, proto := cl.db, cl.proto
	pos := cl.reserveLocal()
	cl.cs.parked = true
	go func() {
		out := resp.Writer{Proto: proto}
		s.cluster.searchOver(cmd, args, db, local, &out)
		cl.finish(pos, out.Buf)
	}()
	return true
}

// searchOver runs an FT.* command over every shard and writes the merged reply. Off the loops.
func (c *clusterNode) searchOver(cmd *command.Command, args [][]byte, db int, local bool, w *resp.Writer) {
	var ids []uint64
	for _, sh := range c.topology().t.Shards {
		ids = append(ids, sh.ID)
	}
	if len(ids) == 0 {
		w.Error("CLUSTERDOWN The cluster is down")
		return
	}
	switch cmd.Name {
	case "ft.search":
		c.searchShards(ids, args, db, local, w)
	case "ft.aggregate", "ft.info":
		name := command.ShardAggregateName
		if cmd.Name == "ft.info" {
			name = command.ShardInfoName
		}
		parts, failed := shardParts(c.eachShard(ids, shardArgs(name, args), false, db, local))
		switch {
		case failed != nil:
			w.Raw(failed)
		case cmd.Name == "ft.info":
			search.MergeInfo(parts, w)
		default:
			search.MergeAggregate(args[1:], parts, w)
		}
	case "ft._list", "ft.tagvals":
		c.unionShards(ids, args, db, local, w)
	case "ft.explain":
		// The plan does not depend on the data: one shard's, a bulk string in either protocol.
		w.Raw(c.eachShard(ids[:1], args, false, db, local)[0])
	default:
		if !cmd.IsWrite() {
			w.Error("ERR " + strings.ToUpper(cmd.Name) + " is not supported by cairn in cluster mode")
			return
		}
		// The definition commands, on every shard's log.
		w.Raw(mergeDefinition(cmd.Name, c.eachShard(ids, args, true, db, false)))
	}
}

// searchShards runs FT.SEARCH over the shards ids: their corpus statistics first if scores
// matter, then their results, then the fields of the page's keys if the shards left them out.
func (c *clusterNode) searchShards(ids []uint64, args [][]byte, db int, local bool, w *resp.Writer) {
	part := func(mode string, extra []byte) [][]byte {
		return append([][]byte{[]byte(command.ShardSearchName), []byte(mode), extra}, args[1:]...)
	}
	var stats []byte
	if search.SearchNeedsStats(args[1:]) {
		parts, failed := shardParts(c.eachShard(ids, part(search.ShardStats, nil), false, db, local))
		if failed != nil {
			w.Raw(failed)
			return
		}
		var err error
		if stats, err = search.MergeStats(parts); err != nil {
			w.Error("ERR malformed shard reply: " + err.Error())
			return
		}
	}
	fetch := func(need map[int][][]byte) (map[int][]byte, []byte) {
		var at []int
		var which []uint64
		var reqs [][][]byte
		for i, keys := range need {
			b, _ := json.Marshal(keys)
			at, which, reqs = append(at, i), append(which, ids[i]), append(reqs, part(search.ShardFields, b))
		}
		parts, failed := shardParts(c.eachShardArgs(which, reqs, db, local))
		if failed != nil {
			return nil, failed
		}
		out := make(map[int][]byte, len(at))
		for j, i := range at {
			out[i] = parts[j]
		}
		return out, nil
	}
	parts, failed := shardParts(c.eachShard(ids, part(search.SearchMode(args[1:]), stats), false, db, local))
	if failed != nil {
		w.Raw(failed)
		return
	}
	search.MergeSearch(args[1:], parts, fetch, w)
}

// unionShards answers FT._LIST and FT.TAGVALS: every shard has the same indexes, and an
// attribute's tag values are the union of the shards'.
func (c *clusterNode) unionShards(ids []uint64, args [][]byte, db int, local bool, w *resp.Writer) {
	replies := c.eachShard(ids, args, false, db, local)
	if failed := firstError(replies); failed != nil {
		w.Raw(failed)
		return
	}
	var all []string
	for _, r := range replies {
		elems, ok := resp.ArrayElems(r)
		if !ok {
			w.Error("ERR malformed shard reply")
			return
		}
		for _, e := range elems {
			b, ok := bulkValue(e)
			if !ok {
				w.Error("ERR malformed shard reply")
				return
			}
			all = append(all, string(b))
		}
	}
	slices.Sort(all)
	all = slices.Compact(all)
	if w.RESP3() {
		w.Set(len(all))
	} else {
		w.Array(len(all))
	}
	for _, v := range all {
		w.BulkString(v)
	}
}

// shardParts returns the shards' parts of a query (each a bulk string), or the reply to give
// instead: a shard's error, or an error for a malformed part.
func shardParts(replies [][]byte) ([][]byte, []byte) {
	if failed := firstError(replies); failed != nil {
		return nil, failed
	}
	parts := make([][]byte, len(replies))
	for i, r := range replies {
		b, ok := bulkValue(r)
		if !ok {
			return nil, []byte("-ERR malformed shard reply\r\n")
		}
		parts[i] = b
	}
	return parts, nil
}

func shardArgs(name string, args [][]byte) [][]byte {
	return append([][]byte{[]byte(name)}, args[1:]...)
}

// eachShard runs one command on every shard in ids, in parallel, in RESP2: a write through
// each shard's leader, a read after a read index — or, with local, on this node's replica of
// the shard if it has one. A shard whose leader is changing is retried for ddlRetryFor.
func (c *clusterNode) eachShard(ids []uint64, args [][]byte, write bool, db int, local bool) [][]byte {
	return c.onShards(ids, func(int) [][]byte { return args }, write, db, local)
}

// eachShardArgs runs reads, argsOf[i] on shard ids[i], as eachShard does.
func (c *clusterNode) eachShardArgs(ids []uint64, argsOf [][][]byte, db int, local bool) [][]byte {
	return c.onShards(ids, func(i int) [][]byte { return argsOf[i] }, false, db, local)
}

func (c *clusterNode) onShards(ids []uint64, argsOf func(int) [][]byte, write bool, db int, local bool) [][]byte {
	out := make([][]byte, len(ids))
	done := make(chan struct{}, len(ids))
	for i, id := range ids {
		args := argsOf(i)
		go func() {
			defer func() { done <- struct{}{} }()
			if local {
				if h := c.s.hostedShard(id); h != nil {
					out[i] = readHere(h, args, db)
					return
				}
			}
			deadline := time.Now().Add(ddlRetryFor)
			for wait := 20 * time.Millisecond; ; wait = min(2*wait, 500*time.Millisecond) {
				out[i] = c.onShard(id, args, write, db, 2)
				if !retryable(out[i]) || time.Now().Add(wait).After(deadline) {
					return
				}
				time.Sleep(wait)
			}
		}()
	}
	for range ids {
		<-done
	}
	return out
}

// readHere runs a read on this node's replica of a shard as it stands (eventual level).
func readHere(h *hosted, args [][]byte, db int) []byte {
	cmd := shardCommand(args)
	if cmd == nil {
		return errorReply(errNotRead)
	}
	var r shard.Reader
	w := resp.Writer{Proto: 2}
	v := h.sh.Acquire()
	r.Run(h.sh, v, cmd, args, db, &w, time.Now().UnixMilli())
	v.Release()
	return w.Buf
}

// shardCommand resolves a read sent to a shard, the internal shard-side queries included
// (they come only from other nodes, over the authenticated bus, or from this node).
func shardCommand(args [][]byte) *command.Command {
	cmd, sub := resolve(args)
	if sub != nil {
		cmd = sub
	}
	if cmd == nil {
		switch c := command.Lookup(args[0]); {
		case c == nil:
		case c.Name == command.ShardSearchName, c.Name == command.ShardAggregateName, c.Name == command.ShardInfoName:
			cmd = c
		}
	}
	if cmd == nil || cmd.Run == nil || cmd.IsWrite() || !command.CheckArity(cmd.Arity, len(args)) {
		return nil
	}
	return cmd
}

// retryable reports whether a shard's error reply says to try again (a leader change, no
// leader known yet, an outcome lost with its leader).
func retryable(r []byte) bool {
	return bytes.HasPrefix(r, []byte("-TRYAGAIN")) || bytes.HasPrefix(r, []byte("-CLUSTERDOWN")) ||
		bytes.HasPrefix(r, []byte("-ERR The write's outcome is unknown"))
}

// alreadyDone is the error a shard answers to a definition command it had already applied:
// what a retry after a partial failure meets on the shards the first attempt reached.
func alreadyDone(name string) string {
	switch name {
	case "ft.create":
		return "-Index already exists"
	case "ft.dropindex":
		return "-Unknown Index name"
	case "ft.aliasadd":
		return "-Alias already exists"
	case "ft.aliasdel":
		return "-Alias does not exist"
	case "ft.alter":
		return "-Duplicate field in schema"
	}
	return ""
}

// mergeDefinition is the reply to a definition command from its shards' replies: OK when
// every shard has applied it — some now and the rest already — else the first real error, or
// the shards' common "already" error when none applied it now.
func mergeDefinition(name string, replies [][]byte) []byte {
	done := alreadyDone(name)
	var ok, already, failed []byte
	for _, r := range replies {
		switch {
		case len(r) > 0 && r[0] == '+':
			ok = r
		case done != "" && strings.HasPrefix(string(r), done):
			if already == nil {
				already = r
			}
		default:
			if failed == nil {
				failed = r
			}
		}
	}
	switch {
	case failed != nil:
		return failed
	case ok != nil:
		return ok
	}
	return already
}

// bulkValue returns the content of a bulk string reply.
func bulkValue(b []byte) ([]byte, bool) {
	if len(b) < 4 || b[0] != '$' {
		return nil, false
	}
	i := bytes.Index(b, []byte("\r\n"))
	if i < 0 || len(b) < i+4 {
		return nil, false
	}
	return b[i+2 : len(b)-2], true
}

// errPartialIndex answers a query on an index that some shards have and others do not: a
// definition command failed part way (mergeDefinition), and running it again completes it.
const errPartialIndex = "-ERR the index is defined on only some shards (an FT.CREATE, FT.DROPINDEX or alias command did not reach every shard): run that command again\r\n"

// firstError is the error reply among the shards' replies, nil if none failed.
func firstError(replies [][]byte) []byte {
	var first []byte
	unknown, answered := false, false
	for _, r := range replies {
		if len(r) == 0 || r[0] != '-' {
			answered = true
			continue
		}
		if first == nil {
			first = r
		}
		unknown = unknown || isUnknownIndex(r)
	}
	if unknown && answered {
		return []byte(errPartialIndex)
	}
	return first
}

// isUnknownIndex reports whether a shard's error reply says it has no such index.
func isUnknownIndex(r []byte) bool {
	return bytes.HasSuffix(r, []byte(": no such index\r\n")) || bytes.EqualFold(r, []byte("-Unknown index name\r\n"))
}
