package server

import (
	"strings"

	"github.com/cairn-db/cairn/internal/command"
)

func init() {
	registerLocal("subscribe", subscribeCmd(kindChannel))
	registerLocal("psubscribe", subscribeCmd(kindPattern))
	registerLocal("ssubscribe", subscribeCmd(kindShard))
	registerLocal("unsubscribe", unsubscribeCmd(kindChannel))
	registerLocal("punsubscribe", unsubscribeCmd(kindPattern))
	registerLocal("sunsubscribe", unsubscribeCmd(kindShard))
	registerLocal("publish", publishCmd(false))
	registerLocal("spublish", publishCmd(true))
	registerLocal("pubsub|channels", cmdPubsubChannels)
	registerLocal("pubsub|shardchannels", cmdPubsubChannels)
	registerLocal("pubsub|numsub", cmdPubsubNumsub)
	registerLocal("pubsub|shardnumsub", cmdPubsubNumsub)
	registerLocal("pubsub|numpat", cmdPubsubNumpat)
	registerLocal("pubsub|help", cmdPubsubHelp)
}

func subscribeCmd(k subKind) localHandler {
	return func(s *Server, cl *Client, args [][]byte) {
		w := &cl.loop.w
		for _, name := range args[1:] {
			// Messages of the earlier subscriptions go before this confirmation; those of the
			// new channel, after it.
			cl.drainOutbox(w)
			s.hub.add(cl, k, name)
			w.Push(3)
			w.BulkString(subKinds[k].subscribe)
			w.Bulk(name)
			w.Int(int64(cl.ps.count(k)))
		}
	}
}

func unsubscribeCmd(k subKind) localHandler {
	return func(s *Server, cl *Client, args [][]byte) {
		w := &cl.loop.w
		names := args[1:]
		if len(names) == 0 {
			all := cl.ps.names(k)
			if len(all) == 0 {
				cl.drainOutbox(w)
				w.Push(3)
				w.BulkString(subKinds[k].unsubscribe)
				w.Null()
				w.Int(int64(cl.ps.count(k)))
				return
			}
			names = make([][]byte, len(all))
			for i, n := range all {
				names[i] = []byte(n)
			}
		}
		for _, name := range names {
			s.hub.remove(cl, k, string(name))
			// Every message published before the removal goes before the confirmation.
			cl.drainOutbox(w)
			w.Push(3)
			w.BulkString(subKinds[k].unsubscribe)
			w.Bulk(name)
			w.Int(int64(cl.ps.count(k)))
		}
	}
}

func publishCmd(shard bool) localHandler {
	return func(s *Server, cl *Client, args [][]byte) {
		lp := cl.loop
		n := s.publish(args[1], args[2], shard, &lp.pubFrame, lp)
		if s.cluster != nil {
			s.cluster.broadcastPublish(args[1], args[2], shard)
		}
		if cl.ps.total() > 0 && !cl.inExec {
			// A client subscribed to its own channel gets the message before the reply.
			cl.drainOutbox(&lp.w)
		}
		lp.w.Int(int64(n))
	}
}

// subscribedRefusal gates commands for a RESP2 client with subscriptions, which may only
// (un)subscribe, PING, QUIT and RESET. handled reports that it replied in the command's place:
// with a refusal (rejected), or with PING's pub/sub form.
func (s *Server) subscribedRefusal(cl *Client, cmd *command.Command, args [][]byte) (handled, rejected bool) {
	if cl.proto != 2 || cl.ps.total() == 0 {
		return false, false
	}
	w := &cl.loop.w
	switch cmd.Name {
	case "subscribe", "psubscribe", "ssubscribe", "unsubscribe", "punsubscribe", "sunsubscribe", "quit", "reset":
		return false, false
	case "ping":
		if len(args) > 2 {
			w.Error(command.ErrWrongArgs("ping"))
			return true, true
		}
		w.Array(2)
		w.BulkString("pong")
		if len(args) == 2 {
			w.Bulk(args[1])
		} else {
			w.BulkString("")
		}
		return true, false
	}
	w.Error("ERR Can't execute '" + cmd.Name + "': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context")
	return true, true
}

// inSubscribedMode reports whether cl is a RESP2 client with subscriptions.
func (cl *Client) inSubscribedMode() bool { return cl.proto == 2 && cl.ps.total() > 0 }

func pubsubKind(args [][]byte) subKind {
	if strings.HasPrefix(strings.ToLower(string(args[1])), "shard") {
		return kindShard
	}
	return kindChannel
}

func cmdPubsubChannels(s *Server, cl *Client, args [][]byte) {
	w := &cl.loop.w
	if len(args) > 3 {
		w.Error("ERR unknown subcommand or wrong number of arguments for '" + string(args[1]) + "'. Try PUBSUB HELP.")
		return
	}
	var pattern []byte
	if len(args) == 3 {
		pattern = args[2]
	}
	names := s.hub.active(pubsubKind(args), pattern)
	w.Array(len(names))
	for _, n := range names {
		w.BulkString(n)
	}
}

func cmdPubsubNumsub(s *Server, cl *Client, args [][]byte) {
	w := &cl.loop.w
	k := pubsubKind(args)
	w.Array(2 * (len(args) - 2))
	for _, ch := range args[2:] {
		w.Bulk(ch)
		w.Int(int64(s.hub.numSub(k, ch)))
	}
}

func cmdPubsubNumpat(s *Server, cl *Client, args [][]byte) {
	cl.loop.w.Int(int64(s.hub.size(kindPattern)))
}

func cmdPubsubHelp(s *Server, cl *Client, args [][]byte) {
	lines := []string{
		"PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
		"CHANNELS [<pattern>]",
		"    Return the currently active channels matching a <pattern> (default: '*').",
		"NUMPAT",
		"    Return number of subscriptions to patterns.",
		"NUMSUB [<channel> ...]",
		"    Return the number of subscribers for the specified channels, excluding",
		"    pattern subscriptions(default: no channels).",
		"SHARDCHANNELS [<pattern>]",
		"    Return the currently active shard level channels matching a <pattern> (default: '*').",
		"SHARDNUMSUB [<shardchannel> ...]",
		"    Return the number of subscribers for the specified shard level channel(s)",
		"HELP",
		"    Prints this help.",
	}
	w := &cl.loop.w
	w.Array(len(lines))
	for _, l := range lines {
		w.Status(l)
	}
}

// pubsubClosed forgets a closing connection's subscriptions and tracking. It runs on its loop.
func (s *Server) pubsubClosed(cl *Client) {
	cl.ps.closed = true
	o := &cl.ps.out
	o.mu.Lock()
	o.closing = true
	o.buf = nil
	o.mu.Unlock()
	s.hub.dropAll(cl)
	s.disableTracking(cl)
}

// resetPubsub is RESET's part: no subscriptions, no tracking, no confirmations sent.
func (s *Server) resetPubsub(cl *Client) {
	s.hub.dropAll(cl)
	s.disableTracking(cl)
}
