package server

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/cairn-db/cairn/internal/replica"
)

// Metrics for Prometheus at http://<metrics-addr>/metrics. Nothing is counted on a command's
// path for them: a scrape reads the counters the server keeps anyway for INFO (per-command
// calls, failures, durations and their histograms, connections, keyspace) and asks the
// engines, Raft groups and bus for their figures (dropped proposals, swept keys and snapshot
// bytes are counted where that work happens, off the command path).

var (
	descCalls    = prometheus.NewDesc("cairn_commands_total", "Calls of a command (INFO commandstats calls).", []string{"cmd"}, nil)
	descFailed   = prometheus.NewDesc("cairn_command_failed_total", "Calls of a command that replied with an error (INFO commandstats failed_calls).", []string{"cmd"}, nil)
	descRejected = prometheus.NewDesc("cairn_command_rejected_total", "Calls of a command refused before running (INFO commandstats rejected_calls).", []string{"cmd"}, nil)
	descDuration = prometheus.NewDesc("cairn_command_duration_seconds", "Time a command took to run on the server (latency-tracking).", []string{"cmd"}, nil)

	descClients    = prometheus.NewDesc("cairn_connected_clients", "Client connections open.", nil, nil)
	descConnsTotal = prometheus.NewDesc("cairn_connections_received_total", "Client connections accepted.", nil, nil)
	descRejConns   = prometheus.NewDesc("cairn_rejected_connections_total", "Client connections refused (maxclients, protected mode).", nil, nil)
	descErrReplies = prometheus.NewDesc("cairn_error_replies_total", "Error replies sent.", nil, nil)
	descHits       = prometheus.NewDesc("cairn_keyspace_hits_total", "Reads that found their key.", nil, nil)
	descMisses     = prometheus.NewDesc("cairn_keyspace_misses_total", "Reads that did not find their key.", nil, nil)
	descExpired    = prometheus.NewDesc("cairn_expired_keys_total", "Keys removed because they expired.", nil, nil)
	descNetIn      = prometheus.NewDesc("cairn_net_input_bytes_total", "Bytes read from clients.", nil, nil)
	descNetOut     = prometheus.NewDesc("cairn_net_output_bytes_total", "Bytes written to clients.", nil, nil)

	shardLabel         = []string{"shard"}
	descDisk           = prometheus.NewDesc("cairn_engine_disk_bytes", "Disk space a shard's engine uses.", shardLabel, nil)
	descMemTable       = prometheus.NewDesc("cairn_engine_memtable_bytes", "Memory in a shard's memtables.", shardLabel, nil)
	descWAL            = prometheus.NewDesc("cairn_engine_wal_bytes", "Size of a shard's write-ahead log.", shardLabel, nil)
	descCompactions    = prometheus.NewDesc("cairn_engine_compactions_total", "Compactions a shard's engine ran.", shardLabel, nil)
	descFlushes        = prometheus.NewDesc("cairn_engine_flushes_total", "Memtable flushes of a shard's engine.", shardLabel, nil)
	descReadAmp        = prometheus.NewDesc("cairn_engine_read_amplification", "Sorted runs a read may visit in a shard's engine.", shardLabel, nil)
	descCacheHits      = prometheus.NewDesc("cairn_engine_block_cache_hits_total", "Block cache hits of a shard's engine.", shardLabel, nil)
	descCacheMisses    = prometheus.NewDesc("cairn_engine_block_cache_misses_total", "Block cache misses of a shard's engine.", shardLabel, nil)
	descCacheBytes     = prometheus.NewDesc("cairn_engine_block_cache_bytes", "Bytes in the node's block cache (shared by its shards).", nil, nil)
	descRaftTerm       = prometheus.NewDesc("cairn_raft_term", "Raft term of this node's replica of a shard.", shardLabel, nil)
	descRaftLeader     = prometheus.NewDesc("cairn_raft_is_leader", "1 if this node's replica leads the shard.", shardLabel, nil)
	descRaftLeaderNode = prometheus.NewDesc("cairn_raft_leader_node", "Node ID of the shard's leader as this replica knows it (0: none).", shardLabel, nil)
	descRaftCommit     = prometheus.NewDesc("cairn_raft_commit_index", "Highest log index known committed.", shardLabel, nil)
	descRaftApplied    = prometheus.NewDesc("cairn_raft_applied_index", "Highest log index applied.", shardLabel, nil)
	descRaftApplyLag   = prometheus.NewDesc("cairn_raft_apply_lag", "Committed entries not yet applied.", shardLabel, nil)
	descRaftPeerLag    = prometheus.NewDesc("cairn_raft_replica_lag", "On a leader: entries a replica has yet to apply, by the leader's count.", []string{"shard", "replica"}, nil)
	descRaftDropped    = prometheus.NewDesc("cairn_raft_proposals_dropped_total", "Proposals that failed without being applied: refused because the replica did not lead, or lost in a leader change.", shardLabel, nil)

	descReplLag     = prometheus.NewDesc("cairn_replication_lag_entries", "On a follower: committed entries, as the leader last told it, that it has not applied yet.", shardLabel, nil)
	descReplContact = prometheus.NewDesc("cairn_replication_last_contact_seconds", "On a follower: seconds since this node last heard from the shard's leader.", shardLabel, nil)

	descRateLimited  = prometheus.NewDesc("cairn_rate_limited_connections_total", "Client connections refused by max-new-connections-per-second (also in cairn_rejected_connections_total).", nil, nil)
	descSlowSubs     = prometheus.NewDesc("cairn_slow_subscribers_total", "Pub/sub clients disconnected for going over the pubsub client-output-buffer-limit.", nil, nil)
	descOutputLimit  = prometheus.NewDesc("cairn_output_limit_disconnections_total", "Clients disconnected for going over their client-output-buffer-limit.", nil, nil)
	descSweeps       = prometheus.NewDesc("cairn_expiry_sweeps_total", "Expiry sweep operations a shard's sweeper had applied while this node led it.", shardLabel, nil)
	descSweptKeys    = prometheus.NewDesc("cairn_expiry_swept_keys_total", "Expired keys a shard's sweeper removed while this node led it.", shardLabel, nil)
	descSweptFields  = prometheus.NewDesc("cairn_expiry_swept_fields_total", "Expired hash fields a shard's sweeper removed while this node led it.", shardLabel, nil)
	descSnapSent     = prometheus.NewDesc("cairn_snapshot_sent_bytes_total", "Bytes of Raft snapshots this node sent to other nodes.", nil, nil)
	descSnapReceived = prometheus.NewDesc("cairn_snapshot_received_bytes_total", "Bytes of Raft snapshots this node received.", nil, nil)
	descTopology     = prometheus.NewDesc("cairn_topology_version", "Version of the newest cluster topology this node knows.", nil, nil)
)

// metricsCollector is the server as a prometheus.Collector.
type metricsCollector struct{ s *Server }

func (m metricsCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descCalls, descFailed, descRejected, descDuration, descClients, descConnsTotal, descRejConns,
		descErrReplies, descHits, descMisses, descExpired, descNetIn, descNetOut, descDisk, descMemTable, descWAL, descCompactions,
		descFlushes, descReadAmp, descCacheHits, descCacheMisses, descCacheBytes, descRaftTerm, descRaftLeader, descRaftLeaderNode,
		descRaftCommit, descRaftApplied, descRaftApplyLag, descRaftPeerLag, descRaftDropped, descReplLag, descReplContact,
		descRateLimited, descSlowSubs, descOutputLimit, descSweeps, descSweptKeys, descSweptFields, descSnapSent, descSnapReceived,
		descTopology} {
		ch <- d
	}
}

func (m metricsCollector) Collect(ch chan<- prometheus.Metric) {
	s := m.s
	counter := func(d *prometheus.Desc, v int64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	for c, st := range s.cmdStats {
		calls := st.calls.Load()
		if calls == 0 && st.rejected.Load() == 0 {
			continue // keep the series to the commands in use
		}
		counter(descCalls, calls, c.Name)
		counter(descFailed, st.failed.Load(), c.Name)
		counter(descRejected, st.rejected.Load(), c.Name)
		if h := st.hist.snapshot(); h != nil && h.total > 0 {
			ch <- prometheus.MustNewConstHistogram(descDuration, uint64(h.total), float64(st.usec.Load())/1e6, h.buckets(), c.Name)
		}
	}
	s.clientsMu.Lock()
	clients := len(s.clients)
	s.clientsMu.Unlock()
	gauge(descClients, float64(clients))
	counter(descConnsTotal, s.stats.connections.Load())
	counter(descRejConns, s.stats.rejected.Load())
	counter(descErrReplies, s.stats.errorReplies.Load())
	counter(descHits, s.stats.keyspaceHits.Load())
	counter(descMisses, s.stats.keyspaceMisses.Load())
	counter(descExpired, s.stats.expiredKeys.Load())
	counter(descNetIn, s.stats.netIn.Load())
	counter(descNetOut, s.stats.netOut.Load())
	counter(descRateLimited, s.stats.rateLimited.Load())
	counter(descSlowSubs, s.stats.slowSubscribers.Load())
	counter(descOutputLimit, s.stats.outputLimitDisconnects.Load())

	var cacheBytes int64
	for _, h := range s.allHosted() {
		id := strconv.FormatUint(h.shard, 10)
		if h.sh != nil {
			em := h.sh.Metrics()
			gauge(descDisk, float64(em.DiskBytes), id)
			gauge(descMemTable, float64(em.MemTableBytes), id)
			gauge(descWAL, float64(em.WALBytes), id)
			counter(descCompactions, em.Compactions, id)
			counter(descFlushes, em.Flushes, id)
			gauge(descReadAmp, float64(em.ReadAmp), id)
			counter(descCacheHits, em.CacheHits, id)
			counter(descCacheMisses, em.CacheMisses, id)
			cacheBytes = em.CacheBytes
			sweeps, keys, fields := h.sh.SweepStats()
			counter(descSweeps, sweeps, id)
			counter(descSweptKeys, keys, id)
			counter(descSweptFields, fields, id)
		}
		if h.raft != nil {
			m.raftGroup(ch, h.raft, id)
		}
	}
	gauge(descCacheBytes, float64(cacheBytes))
	if c := s.cluster; c != nil {
		// The meta group, on the nodes that hold it, under the shard label "meta".
		if r := c.metaRaft(); r != nil {
			m.raftGroup(ch, r, "meta")
		}
		gauge(descTopology, float64(c.topology().t.Version))
		sent, received := c.bus.SnapshotBytes()
		counter(descSnapSent, sent)
		counter(descSnapReceived, received)
	}
}

// raftGroup reports one Raft group's state: its replica's term, leader, indexes and dropped
// proposals; on the leader each replica's lag, on a follower its own.
func (m metricsCollector) raftGroup(ch chan<- prometheus.Metric, r *replica.Raft, id string) {
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	st := r.Status()
	gauge(descRaftTerm, float64(st.Term), id)
	leader := 0.0
	if r.IsLeader() {
		leader = 1
	}
	lead := r.LeaderNode()
	gauge(descRaftLeader, leader, id)
	gauge(descRaftLeaderNode, float64(lead), id)
	gauge(descRaftCommit, float64(st.Commit), id)
	gauge(descRaftApplied, float64(st.Applied), id)
	lag := float64(st.Commit - min(st.Commit, st.Applied))
	gauge(descRaftApplyLag, lag, id)
	ch <- prometheus.MustNewConstMetric(descRaftDropped, prometheus.CounterValue, float64(r.Dropped()), id)
	if leader == 1 {
		for _, p := range st.Peers {
			if p.ID != st.ID {
				gauge(descRaftPeerLag, float64(st.Commit-min(st.Commit, p.Applied)), id, strconv.FormatUint(p.ID, 10))
			}
		}
		return
	}
	gauge(descReplLag, lag, id)
	if c := m.s.cluster; c != nil && lead != 0 {
		if heard := c.bus.Heard(lead); !heard.IsZero() {
			gauge(descReplContact, time.Since(heard).Seconds(), id)
		}
	}
}

// startMetrics serves /metrics on metrics-addr, if set; the returned function stops it.
func (s *Server) startMetrics() (func(), error) {
	addr := s.cfg.MetricsAddr
	if addr == "" {
		return func() {}, nil
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(metricsCollector{s}, clusterCollector{s}, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorLog: nil}))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, listenError("metrics-addr", err)
	}
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.logger.Warn("metrics endpoint stopped", "err", err)
		}
	}()
	s.logger.Info("serving metrics", "addr", "http://"+ln.Addr().String()+"/metrics")
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = hs.Shutdown(ctx)
		<-done
	}, nil
}

// buckets are the histogram's cumulative counts at fixed bounds, as Prometheus wants them (the
// same bounds on every scrape): the top of the counter holding each power of two from 1 µs to
// about a second, in seconds.
func (s *hdrSnapshot) buckets() map[float64]uint64 {
	out := make(map[float64]uint64, 21)
	var cum int64
	idx := -1
	for level := int64(1024); level <= 1<<30; level *= 2 {
		last := min(hdrIndex(level), hdrCountsLen-1)
		for idx < last {
			idx++
			cum += s.counts[idx]
		}
		out[float64(hdrHighest(hdrValueAt(idx)))/1e9] = uint64(cum)
	}
	return out
}
