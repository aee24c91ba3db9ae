package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/panjf2000/gnet/v2"

	"github.com/cairn-db/cairn/internal/acl"
	"github.com/cairn-db/cairn/internal/command"
	"github.com/cairn-db/cairn/internal/engine"
	"github.com/cairn-db/cairn/internal/keyspace"
	"github.com/cairn-db/cairn/internal/replica"
	"github.com/cairn-db/cairn/internal/resp"
	"github.com/cairn-db/cairn/internal/shard"
)

// Server is a cairn node serving the Redis protocol.
type Server struct {
	// scriptCache is SCRIPT LOAD's cache of script bodies (scripting.go).
	scriptCache scriptCache
	gnet.BuiltinEventEngine

	cfg    *Config
	logger *slog.Logger
	// acl holds the users (acl.go).
	acl *acl.Registry

	// shards are the shards this node holds a replica of (shards.go): on a single node one,
	// owning every slot, with a local log.
	shards atomic.Pointer[shardSet]
	// remotes stand for shards this node does not hold, by ID (cluster-proxy forwards to them).
	remotes sync.Map
	// blockCache is the engines' block cache, and compactions their compaction scheduler,
	// shared by the node's shards.
	blockCache  *pebble.Cache
	compactions *engine.Compactions
	// cluster is set in cluster mode (cluster.go).
	cluster *clusterNode
	limits  *command.Limits
	// policy is appendfsync (engine.SyncPolicy), as configured; in a cluster the engines do not
	// sync themselves (the Raft log is the durable record).
	policy atomic.Int32
	// certs are the TLS certificates, when TLS is on for clients or the bus (tlsconf.go);
	// tlsb serves TLS clients (tls.go).
	certs *certStore
	tlsb  *tlsBridge

	gnet    gnet.Engine
	booted  chan struct{}
	addrs   []string
	started time.Time
	// runID identifies this run of the server (INFO run_id), random per start as in Redis.
	runID string

	clientsMu sync.Mutex
	clients   map[int64]*Client
	nextID    atomic.Int64

	loopsMu sync.Mutex
	loops   map[gnet.EventLoop]*loop

	// lastTime makes the time assigned to operations monotonic.
	lastTime atomic.Int64

	watches watchRegistry
	stats   stats
	// connRate limits how fast new connections are served (connrate.go).
	connRate       connRate
	lastSave       atomic.Int64
	saves          saveStats // info_compat.go
	blockedClients atomic.Int64
	cmdStats       cmdStats
	errStats       errorStats
	slow           slowLog
	latency        latencyMonitor
	rates          rates
	pause          pauseState
	mon            monitors
	// noActiveExpire is set by DEBUG SET-ACTIVE-EXPIRE 0: the cron stops removing expired keys.
	noActiveExpire atomic.Bool

	// Pub/sub, keyspace notifications and client-side caching (pubsub.go, tracking.go); the
	// notifier's buffers belong to the apply goroutine.
	hub           *hub
	trk           *trackingTable
	applyNotifier notifier

	shutdownOnce sync.Once
	shutdown     chan struct{}
	cronDone     chan struct{}

	// memToReturn is set when a client holding big buffers went; lastMemReturn is the cron's
	// (backpressure.go).
	memToReturn   atomic.Bool
	lastMemReturn time.Time

	// disk is whether the disk is full (diskfull.go).
	disk diskState

	// failure is why the server stopped itself (its disk failed), returned by Serve.
	failure atomic.Pointer[error]
}

// stats are the counters INFO reports.
type stats struct {
	connections atomic.Int64
	rejected    atomic.Int64
	// rateLimited counts the connections of rejected that max-new-connections-per-second refused.
	rateLimited         atomic.Int64
	commands            atomic.Int64
	netIn, netOut       atomic.Int64
	keyspaceHits        atomic.Int64
	keyspaceMisses      atomic.Int64
	expiredKeys         atomic.Int64
	bigValues           atomic.Int64
	lastBigValueWarn    atomic.Int64
	errorReplies        atomic.Int64
	unexpectedErrs      atomic.Int64
	writesApplied       atomic.Int64
	protoErrors         atomic.Int64
	queryBufDisconnects atomic.Int64

	outputLimitDisconnects atomic.Int64
	// slowSubscribers counts the clients of outputLimitDisconnects that had subscriptions (the
	// pubsub class): subscribers too slow to read what they were sent.
	slowSubscribers atomic.Int64
	evictedClients  atomic.Int64
	// offLoopReads counts the reads run off their event loop (offloop.go).
	offLoopReads atomic.Int64
	// offLoopWrites counts the long writes handed to their log's goroutine (offloop.go).
	offLoopWrites atomic.Int64
}

// New opens the data directory and prepares a server; Serve starts it.
func New(cfg *Config, logger *slog.Logger) (*Server, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	policy, err := engine.ParseSyncPolicy(cfg.AppendFsync)
	if err != nil {
		return nil, err
	}
	if cfg.ClusterEnabled {
		if err := checkState(cfg, logger); err != nil {
			return nil, err
		}
	}
	if err := checkLayout(cfg.Dir); err != nil {
		return nil, err
	}
	s := &Server{
		cfg:      cfg,
		logger:   logger,
		clients:  map[int64]*Client{},
		loops:    map[gnet.EventLoop]*loop{},
		booted:   make(chan struct{}),
		shutdown: make(chan struct{}),
		cronDone: make(chan struct{}),
		started:  time.Now(),
		runID:    newRunID(),
		hub:      newHub(),
		trk:      newTrackingTable(),
	}
	s.policy.Store(int32(policy))
	if err := s.initACL(); err != nil {
		return nil, err
	}
	s.cmdStats = newCmdStats()
	s.limits = command.NewLimits(cfg.ProtoMaxBulkLen())
	s.limits.Encodings = command.NewEncodingLimits()
	s.syncEncodingLimits()
	s.syncAccessPolicy()
	if s.certs, err = openCertStore(cfg, logger); err != nil {
		return nil, err
	}
	s.blockCache = pebble.NewCache(cfg.CacheSize)
	s.compactions = engine.NewCompactions()
	if cfg.ClusterEnabled {
		if s.cluster, err = s.openCluster(); err != nil {
			s.blockCache.Unref()
			s.compactions.Close()
			return nil, err
		}
	} else {
		sh, err := s.openShard(singleShard, 1)
		if err != nil {
			s.blockCache.Unref()
			s.compactions.Close()
			return nil, err
		}
		sh.DeferSync() // the local log acknowledges a batch once durable, applying the next meanwhile
		sh.SetLog(replica.NewLocal(sh, sh.Applied()))
		s.addHosted(newHosted(sh, nil))
		if err := sh.ClearWaiters(s.now(), nil); err != nil {
			sh.Close()
			s.blockCache.Unref()
			s.compactions.Close()
			return nil, fmt.Errorf("clear blocked clients of the last run: %w", err)
		}
	}
	s.lastSave.Store(time.Now().Unix())
	s.saves.savedApplied.Store(s.appliedTotal())
	return s, nil
}

// Serve listens and serves until ctx is cancelled or a client sends SHUTDOWN.
func (s *Server) Serve(ctx context.Context) error {
	var err error
	if s.tlsb, err = newTLSBridge(s); err != nil {
		return err
	}
	stopMetrics, err := s.startMetrics()
	if err != nil {
		return err
	}
	defer stopMetrics()
	if s.tlsb != nil {
		defer s.tlsb.close()
		s.addrs = append(s.addrs, s.tlsb.gnetAddr())
	}
	for _, b := range s.cfg.Bind {
		if s.cfg.Port == 0 && s.tlsb != nil {
			break // TLS only, as Redis with port 0
		}
		s.addrs = append(s.addrs, "tcp://"+net.JoinHostPort(b, strconv.Itoa(s.cfg.Port)))
	}
	if err := checkPorts(s.addrs); err != nil {
		return err
	}
	if s.cluster != nil {
		s.cluster.start()
	}
	go s.cron()
	errc := make(chan error, 1)
	go func() {
		errc <- gnet.Rotate(s, s.addrs,
			gnet.WithMulticore(true),
			gnet.WithNumEventLoop(eventLoops()),
			gnet.WithReusePort(false),
			gnet.WithReuseAddr(true),
			gnet.WithTCPNoDelay(gnet.TCPNoDelay),
			gnet.WithTCPKeepAlive(time.Duration(s.cfg.TCPKeepAlive)*time.Second),
			gnet.WithLogger(gnetLogger{s.logger}),
		)
	}()
	select {
	case err := <-errc:
		s.stopCron()
		return err
	case <-s.booted:
	}
	if s.tlsb != nil {
		s.tlsb.start()
	}
	s.logger.Info("ready to accept connections", "addr", s.addrs, "dir", s.cfg.Dir)
	select {
	case <-ctx.Done():
	case <-s.shutdown:
	case err := <-errc:
		s.stopCron()
		return err
	}
	if s.cluster != nil && s.failure.Load() == nil {
		// While clients can still be redirected, leadership moves to the other nodes.
		s.cluster.handOff(3 * s.cluster.host.ElectionTimeout())
	}
	stopCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = s.gnet.Stop(stopCtx)
	<-errc
	s.stopCron()
	if p := s.failure.Load(); p != nil {
		return *p
	}
	return nil
}

// Close stops the logs and closes the engines. Call after Serve returns.
func (s *Server) Close() error {
	var err error
	if s.cluster != nil {
		err = s.cluster.close()
	} else {
		for _, h := range s.allHosted() {
			if cerr := h.sh.Close(); err == nil {
				err = cerr
			}
		}
	}
	s.blockCache.Unref()
	s.compactions.Close()
	return err
}

// Shutdown asks Serve to return.
func (s *Server) Shutdown() {
	s.shutdownOnce.Do(func() { close(s.shutdown) })
}

// fail stops the server because it cannot go on safely (a disk failure: Pebble cannot continue
// after a failed write or sync of its log, and what it holds in memory may include writes that
// never reached the disk). Writes in flight get an error; Serve returns err, so the process
// exits non-zero. Everything acknowledged before is on disk.
func (s *Server) fail(why string, err error) {
	s.logger.Error(why+"; shutting down", "err", err)
	if s.failure.CompareAndSwap(nil, &err) {
		s.Shutdown()
	}
}

// OnBoot implements gnet.EventHandler.
func (s *Server) OnBoot(eng gnet.Engine) gnet.Action {
	s.gnet = eng
	close(s.booted)
	return gnet.None
}

// OnOpen implements gnet.EventHandler.
func (s *Server) OnOpen(c gnet.Conn) ([]byte, gnet.Action) {
	var raddr, laddr string
	if a := c.RemoteAddr(); a != nil {
		raddr = a.String()
	}
	if a := c.LocalAddr(); a != nil {
		laddr = a.String()
	}
	if s.tlsb != nil && isUnix(c.LocalAddr()) {
		// Claimed before any refusal, so the bridge forgets the connection either way.
		a, ok := s.tlsb.claim(raddr)
		if !ok {
			return nil, gnet.Close // not a connection the TLS bridge made
		}
		raddr, laddr = a.raddr, a.laddr
	}
	if !s.connRate.allow(time.Now(), s.cfg.MaxNewConnsPerSec()) {
		s.stats.rejected.Add(1)
		s.stats.rateLimited.Add(1)
		return []byte(deniedRate), gnet.Close
	}
	s.clientsMu.Lock()
	n := len(s.clients)
	s.clientsMu.Unlock()
	if n >= s.cfg.MaxClients() {
		s.stats.rejected.Add(1)
		return []byte("-ERR max number of clients reached\r\n"), gnet.Close
	}
	if s.refusedByProtectedMode(raddr) {
		s.stats.rejected.Add(1)
		return []byte(deniedProtected), gnet.Close
	}
	cl := &Client{
		id:      s.nextID.Add(1),
		conn:    c,
		srv:     s,
		loop:    s.loopFor(c),
		proto:   2,
		user:    s.acl.Default(),
		created: time.Now().UnixMilli(),
		raddr:   raddr,
		laddr:   laddr,
	}
	cl.authed = defaultAuthed(cl.user)
	cl.lastActive.Store(cl.created)
	cl.multiSlot, cl.watchSlot = noSlot, noSlot
	cl.publish()
	c.SetContext(cl)
	s.clientsMu.Lock()
	s.clients[cl.id] = cl
	s.clientsMu.Unlock()
	s.stats.connections.Add(1)
	return nil, gnet.None
}

// OnClose implements gnet.EventHandler.
func (s *Server) OnClose(c gnet.Conn, _ error) gnet.Action {
	cl, ok := c.Context().(*Client)
	if !ok {
		return gnet.None
	}
	cl.gone = true
	s.clientsMu.Lock()
	delete(s.clients, cl.id)
	s.clientsMu.Unlock()
	s.pubsubClosed(cl)
	if cl.blocked() {
		// The waiter is removed through the log; the client counts as blocked until then, so
		// nothing sees it gone while a write could still serve it.
		s.unblock(cl, command.UnblockGone)
	}
	s.unwatchAll(cl)
	s.removeMonitor(cl)
	cl.stopBackpressure()
	s.noteClosed(cl)
	return gnet.None
}

func (s *Server) loopFor(c gnet.Conn) *loop {
	el := c.EventLoop()
	s.loopsMu.Lock()
	defer s.loopsMu.Unlock()
	lp := s.loops[el]
	if lp == nil {
		lp = &loop{el: el}
		lp.pushes.task = flushTask{s: s, lp: lp}
		lp.reader.MaxBulkLen = s.cfg.ProtoMaxBulkLen()
		s.loops[el] = lp
	}
	return lp
}

// OnTraffic implements gnet.EventHandler: it delivers the replies of completed writes, then
// runs every complete request in the buffer, in order, and flushes the replies once.
func (s *Server) OnTraffic(c gnet.Conn) gnet.Action {
	cl := c.Context().(*Client)
	lp := cl.loop
	if cl.killed.Load() {
		return gnet.Close
	}
	cl.noteRead(c)
	lp.w.Reset()
	lp.w.Proto = cl.proto
	lp.reader.MaxBulkLen = s.cfg.ProtoMaxBulkLen()

	// Pushes queued for this client before these requests arrived (a message published before
	// it sent them) go out before their replies, as Redis has them in its buffer already.
	if len(cl.pending) == 0 {
		cl.drainOutbox(&lp.w)
	}
	if !s.drainReplies(cl) {
		return s.checkQueryBuffer(c)
	}
	if cl.closeWhenAnswered.Load() {
		// A late reply was the last this connection gets (its user was deleted).
		s.flushWriter(c, lp)
		return gnet.Close
	}
	action := s.process(c, cl, lp)
	if cl.killed.Load() {
		lp.w.Reset() // cut off for its output: what it has not been sent is dropped
		return gnet.Close
	}
	s.flushWriter(c, lp)
	cl.qbuf.Store(cl.inputBytes(c))
	cl.omem.Store(int64(c.OutboundBuffered()))
	s.afterEvent(cl)
	if cl.closeAfterReply {
		return gnet.Close
	}
	return action
}

// emit appends a completed reply, accounting it to its command and honouring CLIENT REPLY.
// done is when the reply was filled, prev when the one before it in the batch was.
func (s *Server) emit(cl *Client, r []byte, done, prev time.Time) {
	if len(cl.pending) > 0 {
		p := cl.pending[0]
		copy(cl.pending, cl.pending[1:])
		cl.pending[len(cl.pending)-1] = pendingReply{} // its operation may hold a big value
		cl.pending = cl.pending[:len(cl.pending)-1]
		start := runStart(p.start, done, prev)
		if d := s.account(p.cmd, start, r); s.isSlow(d) {
			s.observePending(cl, &p, d)
		}
		if p.multi != nil && len(r) > 0 && r[0] == '*' {
			s.accountExec(p.dataCmds(), start, r)
		}
		if len(p.locals) > 0 {
			s.emitExec(cl, &p, r)
			return
		}
		if p.drop {
			return
		}
	}
	cl.loop.w.Raw(r)
}

func (s *Server) checkQueryBuffer(c gnet.Conn) gnet.Action {
	if int64(c.InboundBuffered()) > s.cfg.ClientQueryBufferLimit() {
		s.stats.queryBufDisconnects.Add(1)
		s.logger.Warn("closing client over the query buffer limit", "limit", s.cfg.ClientQueryBufferLimit())
		return gnet.Close
	}
	return gnet.None
}

// process runs the complete requests in c's buffer until it is empty, a request is incomplete,
// or a write must wait for apply (the connection is then parked until its replies arrive).
func (s *Server) process(c gnet.Conn, cl *Client, lp *loop) gnet.Action {
outer:
	for {
		if s.outputBlocked(c, cl) {
			return s.checkQueryBuffer(c)
		}
		fromBig := cl.big != nil
		var buf []byte
		if fromBig {
			ready, err := s.bigReady(c, cl, &lp.reader)
			if err != nil {
				s.stats.protoErrors.Add(1)
				mark := lp.w.Len()
				lp.w.Error(err.Error())
				s.noteError(lp.w.Buf[mark:])
				cl.closeAfterReply = true
				return gnet.None
			}
			if !ready {
				return s.checkQueryBuffer(c)
			}
			buf = cl.big
		} else {
			avail := c.InboundBuffered()
			if cl.need > 0 && avail < cl.need && s.startBigRequest(c, cl, cl.need) {
				cl.need = 0
				continue
			}
			if avail == 0 || (cl.need > 0 && avail < cl.need) {
				return s.checkQueryBuffer(c)
			}
			buf, _ = c.Peek(avail)
		}
		off := 0
		clear(lp.batch) // a write's proposal may alias a big request's buffer
		lp.batch = lp.batch[:0]
		stop := false
		for off < len(buf) && !stop {
			args, n, need, err := lp.reader.Parse(buf[off:])
			if err != nil {
				if errors.Is(err, resp.ErrIncomplete) {
					if need > 0 {
						// The request starts at off, and the bytes before it are discarded
						// below: need counts from its start.
						cl.need = need
					} else {
						cl.need = 0
					}
					break
				}
				discard(c, off)
				if len(lp.batch) > 0 {
					// Answer the writes before it first; the bad request is parsed again
					// when their replies are in.
					if s.submit(cl, lp.batch) && s.drainReplies(cl) {
						continue outer
					}
					return gnet.None
				}
				s.stats.protoErrors.Add(1)
				mark := lp.w.Len()
				lp.w.Error(err.Error())
				s.noteError(lp.w.Buf[mark:])
				cl.closeAfterReply = true
				return gnet.None
			}
			cl.need = 0
			if len(args) == 0 {
				off += n
				continue
			}
			if s.parkIfPaused(cl, args) {
				// CLIENT PAUSE: leave the request in the buffer until the pause ends.
				break
			}
			s.stats.netIn.Add(int64(n))
			r := s.parseRequest(cl, args, n)
			if len(lp.batch) > 0 && !r.write {
				// A command after a run of writes waits for them, so replies keep their order
				// and it sees what they wrote.
				break
			}
			h, act := s.route(cl, &r, len(lp.batch), len(buf)-off)
			if act == gateWait {
				break
			}
			if act == gateDone {
				off += n
				s.routed(cl, &r, nil, true)
				stop = s.afterReply(c, cl, lp)
				continue
			}
			p, st := s.dispatch(cl, &r, h)
			stop = st
			off += n
			s.routed(cl, &r, h, p != nil)
			if cl.cs.parked {
				cl.cs.parked = false
				stop = true
			}
			if p != nil {
				lp.batch = append(lp.batch, pendingWrite{h: h, p: *p})
				// A blocking command ends the batch: what follows waits until it is answered,
				// as in Redis.
				stop = r.cmd.Flags&command.FlagBlocking != 0
			}
			if cl.closeAfterReply || s.afterReply(c, cl, lp) {
				stop = true
			}
		}
		if !fromBig {
			discard(c, off)
		} else if off > 0 {
			cl.dropBig()
			lp.reader.Forget()
		}
		if len(lp.batch) > 0 {
			if !s.submit(cl, lp.batch) || !s.drainReplies(cl) {
				return gnet.None // parked until apply replies (or a blocked client is served)
			}
			continue
		}
		if stop || cl.need > 0 || off == 0 {
			return s.checkQueryBuffer(c)
		}
	}
}

// discard drops the first n bytes of c's input. gnet's Discard treats n <= 0 as "everything",
// which would throw away the start of an incomplete request.
func discard(c gnet.Conn, n int) {
	if n > 0 {
		_, _ = c.Discard(n)
	}
}

// Proposal is a write waiting to be submitted to a log.
type Proposal = replica.Proposal

// submit hands a pass's writes to their shards' logs, each write's reply place reserved first
// (replies.go). It reports whether they were all applied at once on this goroutine (their
// replies are then in place); otherwise the connection stays parked until apply completes them.
//
// A single node applies inline when it need not wait for a disk sync (appendfsync everysec or
// no): handing the writes to the log's goroutine and being woken again costs more than applying
// them. Under appendfsync always they go to the log's goroutine, which syncs once for every
// client's writes that arrived meanwhile (group commit).
func (s *Server) submit(cl *Client, batch []pendingWrite) bool {
	defer func() { cl.longWrite = false }()
	cl.mu.Lock()
	for i := range batch {
		done := cl.reserve(batch[i].h.id()).done
		if len(batch[i].p.Data) >= bigWriteBytes {
			// Once applied, the write's request and batch are garbage the collector would
			// keep counting as heap for a while: the engine's flush of the value would come
			// on top of them (see returnMemory).
			reply := done
			done = func(r []byte, err error) {
				reply(r, err)
				s.memToReturn.Store(true)
			}
		}
		batch[i].p.Done = done
		batch[i].p.Long = cl.longWrite
	}
	cl.mu.Unlock()
	inline := true
	lp := cl.loop
	for len(batch) > 0 {
		// The next shard's writes, in order; the rest keep theirs.
		h := batch[0].h
		group := lp.group[:0]
		rest := batch[:0]
		for _, w := range batch {
			if w.h == h {
				group = append(group, w.p)
			} else {
				rest = append(rest, w)
			}
		}
		batch = rest
		if !s.submitTo(cl, h, group) {
			inline = false
		}
		clear(group)
		lp.group = group[:0]
	}
	return inline
}

// submitTo hands one shard's writes to its log, applying them inline when it may; it reports
// whether it did.
func (s *Server) submitTo(cl *Client, h *hosted, ps []Proposal) bool {
	if local, ok := h.sh.Log().(*replica.Local); ok && s.syncPolicy() != engine.SyncAlways && !hasScript(ps) && !cl.longWrite && !local.Busy() {
		// (While the log's goroutine applies a long write, a write applied here would wait
		// for it and hold the loop: it goes to the goroutine too.)
		lp := cl.loop
		if s.addToPass(lp, local, cl, cl.queueOf(h.id()), ps) {
			return false // parked until the pass is applied (pass.go)
		}
		lp.results = append(lp.results[:0], make([][]byte, len(ps))...)
		err := local.ApplyNow(ps, lp.results)
		q := cl.queueOf(h.id())
		for _, r := range lp.results {
			cl.completeFrom(q, r, err, true)
		}
		clear(lp.results)
		return true
	}
	if c := s.cluster; c != nil && (h.remote || !h.leads() && s.cfg.ClusterProxy()) {
		go c.forward(cl, h.id(), slices.Clone(ps)) // ps is the loop's, reused once this returns
		return false
	}
	if c := s.cluster; c != nil && s.cfg.ClusterProxy() && c.migratingFrom(h.id()) {
		go c.forwardFollowingAsk(cl, h.id(), slices.Clone(ps)) // slotmove.go
		return false
	}
	if err := h.sh.Log().Propose(ps...); err != nil {
		for _, p := range ps {
			p.Done(nil, err)
		}
	}
	return false
}

// drainReplies writes the replies of completed writes into the loop's buffer. It reports false,
// writing nothing, while writes are still in flight.
func (s *Server) drainReplies(cl *Client) bool {
	replies, done, ok := cl.takeReplies()
	if !ok {
		return false
	}
	var prev time.Time
	for i, r := range replies {
		s.emit(cl, r, done[i], prev)
		prev = done[i]
	}
	clear(replies)
	return true
}

// syncPolicy is appendfsync as configured.
func (s *Server) syncPolicy() engine.SyncPolicy { return engine.SyncPolicy(s.policy.Load()) }

// now returns the time to assign to an operation: the wall clock in Unix ms, never going back.
func (s *Server) now() int64 {
	t := time.Now().UnixMilli()
	for {
		last := s.lastTime.Load()
		if t <= last {
			return last
		}
		if s.lastTime.CompareAndSwap(last, t) {
			return t
		}
	}
}

// onApplied runs on the apply goroutine after each committed batch.
func (s *Server) onApplied(sh *shard.Shard, eff *keyspace.Effects, served []command.Served) {
	for _, ev := range eff.Events {
		if ev.Class == 'x' {
			s.stats.expiredKeys.Add(1)
		}
	}
	s.watches.touched(eff, eff.Remapped)
	if len(served) > 0 {
		s.onServed(served)
	}
	s.notifyApplied(sh, eff.Events)
	s.invalidateApplied(eff)
}

func nowMs() int64 { return time.Now().UnixMilli() }

type gnetLogger struct{ l *slog.Logger }

func (g gnetLogger) Debugf(format string, args ...any) {}
func (g gnetLogger) Infof(format string, args ...any) {
	g.l.Debug(fmt.Sprintf(format, args...), "component", "gnet")
}
func (g gnetLogger) Warnf(format string, args ...any) {
	g.l.Warn(fmt.Sprintf(format, args...), "component", "gnet")
}
func (g gnetLogger) Errorf(format string, args ...any) {
	g.l.Error(fmt.Sprintf(format, args...), "component", "gnet")
}
func (g gnetLogger) Fatalf(format string, args ...any) {
	g.l.Error(fmt.Sprintf(format, args...), "component", "gnet")
	os.Exit(1)
}

// eventLoops is the number of event loops: CAIRN_EVENT_LOOPS, or one per CPU.
func eventLoops() int {
	if n, err := strconv.Atoi(os.Getenv("CAIRN_EVENT_LOOPS")); err == nil && n > 0 {
		return n
	}
	return runtime.GOMAXPROCS(0)
}
