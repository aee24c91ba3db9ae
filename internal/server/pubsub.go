package server

import (
	"sort"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/cairn-db/cairn/internal/glob"
)

// Pub/sub. The hub maps channels, patterns and shard channels to their subscribers; any loop
// (PUBLISH) and the apply goroutine (keyspace notifications) publish through it. A message is
// encoded once per publication and copied into each subscriber's outbox (push.go): RESP2 and
// RESP3 frames differ only in their first byte ('*' or '>'), which is switched in place for
// RESP3 subscribers. PUBLISH in single-node mode touches no data, so it does not go through the
// log.
//
// A client's own list of subscriptions is owned by its loop; the hub's lists are guarded by the
// hub's lock. Subscribing drains the client's outbox before adding the subscription and
// unsubscribing after removing it, so a confirmation never comes after a message it should
// precede, nor before one it should follow.

// hub is the server's pub/sub registry.
type hub struct {
	mu       sync.RWMutex
	channels map[string]*subscribers
	patterns map[string]*subscribers
	shards   map[string]*subscribers

	// subs counts channel and pattern subscriptions, so keyspace notifications cost nothing
	// while nobody listens; clients counts the clients with any subscription (pubsub_clients).
	subs    atomic.Int64
	clients atomic.Int64
}

// subscribers is one channel's (or pattern's) subscribers, in a slice for fast fan-out.
type subscribers struct {
	name []byte
	list []*Client
	pos  map[*Client]int
}

func newHub() *hub {
	return &hub{channels: map[string]*subscribers{}, patterns: map[string]*subscribers{}, shards: map[string]*subscribers{}}
}

// pubsubState is a connection's pub/sub and client-side caching state.
type pubsubState struct {
	out outbox
	// proto mirrors the client's protocol version for publishers on other goroutines.
	proto atomic.Int32

	// The client's subscriptions, owned by its loop; the counts are for other goroutines.
	channels, patterns, shards map[string]struct{}
	nsub, npsub, nssub         atomic.Int32

	// closed is set on the loop when the connection closes.
	closed bool

	trk tracking
}

// subKind is one of the three subscription namespaces.
type subKind int

const (
	kindChannel subKind = iota
	kindPattern
	kindShard
)

var subKinds = [3]struct {
	subscribe, unsubscribe, message string
}{
	{"subscribe", "unsubscribe", "message"},
	{"psubscribe", "punsubscribe", "pmessage"},
	{"ssubscribe", "sunsubscribe", "smessage"},
}

func (h *hub) table(k subKind) map[string]*subscribers {
	switch k {
	case kindPattern:
		return h.patterns
	case kindShard:
		return h.shards
	}
	return h.channels
}

func (ps *pubsubState) set(k subKind) *map[string]struct{} {
	switch k {
	case kindPattern:
		return &ps.patterns
	case kindShard:
		return &ps.shards
	}
	return &ps.channels
}

func (ps *pubsubState) counter(k subKind) *atomic.Int32 {
	switch k {
	case kindPattern:
		return &ps.npsub
	case kindShard:
		return &ps.nssub
	}
	return &ps.nsub
}

// total is every subscription of the client: a client with any is in the pub/sub context.
func (ps *pubsubState) total() int { return len(ps.channels) + len(ps.patterns) + len(ps.shards) }

// subscribed reports, from any goroutine, whether the client has any subscription.
func (ps *pubsubState) subscribed() bool {
	return ps.nsub.Load()+ps.npsub.Load()+ps.nssub.Load() > 0
}

// count is the number Redis reports in (un)subscribe confirmations: channels and patterns
// together, shard channels on their own.
func (ps *pubsubState) count(k subKind) int {
	if k == kindShard {
		return len(ps.shards)
	}
	return len(ps.channels) + len(ps.patterns)
}

// add subscribes cl to name; it reports false if cl already was.
func (h *hub) add(cl *Client, k subKind, name []byte) bool {
	set := cl.ps.set(k)
	if _, ok := (*set)[string(name)]; ok {
		return false
	}
	if *set == nil {
		*set = map[string]struct{}{}
	}
	wasSubscribed := cl.ps.total() > 0
	key := string(name)
	(*set)[key] = struct{}{}
	cl.ps.counter(k).Add(1)

	h.mu.Lock()
	t := h.table(k)
	s := t[key]
	if s == nil {
		s = &subscribers{name: []byte(key), pos: map[*Client]int{}}
		t[key] = s
	}
	s.pos[cl] = len(s.list)
	s.list = append(s.list, cl)
	h.mu.Unlock()
	if k != kindShard {
		h.subs.Add(1)
	}
	if !wasSubscribed {
		h.clients.Add(1)
	}
	return true
}

// remove unsubscribes cl from name; it reports false if cl was not subscribed.
func (h *hub) remove(cl *Client, k subKind, name string) bool {
	set := cl.ps.set(k)
	if _, ok := (*set)[name]; !ok {
		return false
	}
	delete(*set, name)
	cl.ps.counter(k).Add(-1)

	h.mu.Lock()
	t := h.table(k)
	if s := t[name]; s != nil {
		if i, ok := s.pos[cl]; ok {
			last := len(s.list) - 1
			s.list[i] = s.list[last]
			s.pos[s.list[i]] = i
			s.list[last] = nil
			s.list = s.list[:last]
			delete(s.pos, cl)
		}
		if len(s.list) == 0 {
			delete(t, name)
		}
	}
	h.mu.Unlock()
	if k != kindShard {
		h.subs.Add(-1)
	}
	if cl.ps.total() == 0 {
		h.clients.Add(-1)
	}
	return true
}

// names returns the client's subscriptions of kind k, sorted.
func (ps *pubsubState) names(k subKind) []string {
	set := *ps.set(k)
	out := make([]string, 0, len(set))
	for n := range set {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// dropAll removes every subscription of cl without replying (RESET, disconnect).
func (h *hub) dropAll(cl *Client) {
	for k := kindChannel; k <= kindShard; k++ {
		for _, n := range cl.ps.names(k) {
			h.remove(cl, k, n)
		}
	}
}

// publish delivers msg on channel (a shard channel if shard) and returns the number of clients
// that received it, counting a client once per matching subscription as Redis does. scratch is
// the caller's encoding buffer; from is the caller's loop, nil off the loops. Safe from any
// goroutine.
func (s *Server) publish(channel, msg []byte, shard bool, scratch *[]byte, from *loop) int {
	h := s.hub
	n := 0
	h.mu.RLock()
	if shard {
		if subs := h.shards[string(channel)]; subs != nil {
			*scratch = appendMessage((*scratch)[:0], "smessage", nil, channel, msg)
			n += s.fanOut(subs, *scratch, from)
		}
		h.mu.RUnlock()
		return n
	}
	if subs := h.channels[string(channel)]; subs != nil {
		*scratch = appendMessage((*scratch)[:0], "message", nil, channel, msg)
		n += s.fanOut(subs, *scratch, from)
	}
	for _, subs := range h.patterns {
		if glob.Match(subs.name, channel, false) {
			*scratch = appendMessage((*scratch)[:0], "pmessage", subs.name, channel, msg)
			n += s.fanOut(subs, *scratch, from)
		}
	}
	h.mu.RUnlock()
	return n
}

// fanOut copies one RESP2-encoded frame into every subscriber's outbox, switching its first
// byte to a RESP3 push for RESP3 subscribers.
func (s *Server) fanOut(subs *subscribers, frame []byte, from *loop) int {
	for _, cl := range subs.list {
		if cl.ps.proto.Load() >= 3 {
			frame[0] = '>'
			s.push(cl, frame, from)
			frame[0] = '*'
			continue
		}
		s.push(cl, frame, from)
	}
	return len(subs.list)
}

// appendMessage encodes a message, or with a pattern a pmessage, as a RESP2 array.
func appendMessage(b []byte, kind string, pattern, channel, msg []byte) []byte {
	n := 3
	if pattern != nil {
		n = 4
	}
	b = append(b, '*', byte('0'+n), '\r', '\n')
	b = appendBulk(b, []byte(kind))
	if pattern != nil {
		b = appendBulk(b, pattern)
	}
	b = appendBulk(b, channel)
	return appendBulk(b, msg)
}

func appendBulk(b, s []byte) []byte {
	b = append(b, '$')
	b = strconv.AppendInt(b, int64(len(s)), 10)
	b = append(b, '\r', '\n')
	b = append(b, s...)
	return append(b, '\r', '\n')
}

// numSub returns the number of subscribers of a channel (or shard channel).
func (h *hub) numSub(k subKind, name []byte) int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if s := h.table(k)[string(name)]; s != nil {
		return len(s.list)
	}
	return 0
}

// active returns the channels (or shard channels) with subscribers that match pattern (all
// when pattern is nil), sorted.
func (h *hub) active(k subKind, pattern []byte) []string {
	h.mu.RLock()
	var out []string
	for name := range h.table(k) {
		if pattern == nil || glob.Match(pattern, []byte(name), false) {
			out = append(out, name)
		}
	}
	h.mu.RUnlock()
	sort.Strings(out)
	return out
}

// size is the number of channels, patterns or shard channels with subscribers.
func (h *hub) size(k subKind) int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return len(h.table(k))
}
