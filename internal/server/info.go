package server

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/cairn-db/cairn/internal/keyspace"
)

func init() {
	registerLocal("info", cmdInfo)
}

// infoSection is one INFO section. Default sections are those INFO with no argument shows;
// "all" adds the rest, "everything" is all of them (cairn loads no modules).
type infoSection struct {
	name, title string
	dflt        bool
	fill        func(s *Server, cl *Client, b *strings.Builder)
}

var infoSections = []infoSection{
	{"server", "Server", true, infoServer},
	{"clients", "Clients", true, infoClients},
	{"memory", "Memory", true, infoMemory},
	{"persistence", "Persistence", true, infoPersistence},
	{"stats", "Stats", true, infoStats},
	{"replication", "Replication", true, infoReplication},
	{"cpu", "CPU", true, infoCPU},
	{"modules", "Modules", true, func(*Server, *Client, *strings.Builder) {}},
	{"errorstats", "Errorstats", true, infoErrorstats},
	{"cluster", "Cluster", true, infoCluster},
	{"keyspace", "Keyspace", true, infoKeyspace},
	{"commandstats", "Commandstats", false, infoCommandstats},
	{"latencystats", "Latencystats", false, infoLatencystats},
}

func cmdInfo(s *Server, cl *Client, args [][]byte) {
	want := map[string]bool{}
	all, dflt := false, len(args) == 1
	for _, a := range args[1:] {
		switch name := strings.ToLower(string(a)); name {
		case "all", "everything":
			all = true
		case "default":
			dflt = true
		default:
			want[name] = true
		}
	}
	var b strings.Builder
	for _, sec := range infoSections {
		if !all && !want[sec.name] && !(dflt && sec.dflt) {
			continue
		}
		if b.Len() > 0 {
			b.WriteString("\r\n")
		}
		b.WriteString("# " + sec.title + "\r\n")
		sec.fill(s, cl, &b)
	}
	cl.loop.w.Verbatim(b.String())
}

func kv(b *strings.Builder, k string, v any) {
	fmt.Fprintf(b, "%s:%v\r\n", k, v)
}

func infoServer(s *Server, cl *Client, b *strings.Builder) {
	up := time.Since(s.started)
	exe, _ := os.Executable()
	kv(b, "redis_version", Version)
	kv(b, "redis_git_sha1", "00000000")
	kv(b, "redis_git_dirty", 0)
	kv(b, "redis_build_id", "0")
	kv(b, "redis_mode", s.mode())
	kv(b, "cairn_version", CairnVersion)
	kv(b, "os", runtime.GOOS+" "+runtime.GOARCH)
	kv(b, "arch_bits", 64)
	kv(b, "monotonic_clock", "POSIX clock_gettime")
	kv(b, "multiplexing_api", "epoll")
	kv(b, "go_version", runtime.Version())
	kv(b, "process_id", os.Getpid())
	kv(b, "process_supervised", "no")
	kv(b, "run_id", s.runID)
	kv(b, "tcp_port", s.cfg.Port)
	kv(b, "server_time_usec", time.Now().UnixMicro())
	kv(b, "uptime_in_seconds", int64(up.Seconds()))
	kv(b, "uptime_in_days", int64(up.Hours()/24))
	kv(b, "hz", s.cfg.Hz())
	kv(b, "configured_hz", s.cfg.Hz())
	kv(b, "lru_clock", time.Now().Unix()&(1<<24-1))
	kv(b, "executable", exe)
	kv(b, "config_file", s.cfg.File)
	kv(b, "io_threads_active", 0)
	kv(b, "listener0", fmt.Sprintf("name=tcp,bind=%s,port=%d", strings.Join(s.cfg.Bind, ","), s.cfg.Port))
}

func infoClients(s *Server, cl *Client, b *strings.Builder) {
	s.clientsMu.Lock()
	n := len(s.clients)
	s.clientsMu.Unlock()
	kv(b, "connected_clients", n)
	kv(b, "cluster_connections", 0)
	kv(b, "maxclients", s.cfg.MaxClients())
	kv(b, "client_recent_max_input_buffer", 0)
	kv(b, "client_recent_max_output_buffer", 0)
	kv(b, "blocked_clients", s.blockedClients.Load())
	kv(b, "tracking_clients", s.trk.clients.Load())
	kv(b, "pubsub_clients", s.hub.clients.Load())
	kv(b, "watching_clients", 0)
	kv(b, "clients_in_timeout_table", s.blockedClients.Load())
	kv(b, "total_watched_keys", 0)
	kv(b, "total_blocking_keys", 0)
	kv(b, "total_blocking_keys_on_nokey", 0)
	kv(b, "paused_clients", s.pausedClients())
}

func infoMemory(s *Server, cl *Client, b *strings.Builder) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	m := s.engineMetrics()
	used := int64(ms.HeapAlloc)
	kv(b, "used_memory", used)
	kv(b, "used_memory_human", human(used))
	kv(b, "used_memory_rss", ms.Sys)
	kv(b, "used_memory_rss_human", human(int64(ms.Sys)))
	kv(b, "used_memory_peak", ms.HeapSys)
	kv(b, "used_memory_peak_human", human(int64(ms.HeapSys)))
	kv(b, "used_memory_dataset", m.DiskBytes)
	kv(b, "total_system_memory", totalSystemMemory())
	kv(b, "maxmemory", 0)
	kv(b, "maxmemory_human", "0B")
	kv(b, "maxmemory_policy", "noeviction")
	kv(b, "mem_fragmentation_ratio", fmt.Sprintf("%.2f", float64(ms.Sys)/float64(max(used, 1))))
	kv(b, "mem_allocator", "go")
	kv(b, "lazyfree_pending_objects", 0)
	kv(b, "engine_memtable_bytes", m.MemTableBytes)
	kv(b, "engine_block_cache_bytes", m.CacheBytes)
	kv(b, "engine_block_cache_hits", m.CacheHits)
	kv(b, "engine_block_cache_misses", m.CacheMisses)
	kv(b, "engine_disk_bytes", m.DiskBytes)
	kv(b, "big_values_written", s.stats.bigValues.Load())
	s.infoMemoryCompat(b, used)
}

func totalSystemMemory() int64 {
	var si syscall.Sysinfo_t
	if err := syscall.Sysinfo(&si); err != nil {
		return 0
	}
	return int64(si.Totalram) * int64(si.Unit)
}

func infoPersistence(s *Server, cl *Client, b *strings.Builder) {
	kv(b, "loading", 0)
	kv(b, "async_loading", 0)
	kv(b, "current_cow_peak", 0)
	kv(b, "rdb_changes_since_last_save", s.appliedTotal()-min(s.saves.savedApplied.Load(), s.appliedTotal()))
	kv(b, "rdb_bgsave_in_progress", 0)
	kv(b, "rdb_last_save_time", s.lastSave.Load())
	kv(b, "rdb_last_bgsave_status", s.saves.status())
	kv(b, "aof_enabled", 1)
	kv(b, "aof_rewrite_in_progress", 0)
	kv(b, "aof_rewrite_scheduled", 0)
	kv(b, "aof_last_write_status", diskStatus(s))
	kv(b, "appendfsync", s.syncPolicy().String())
	var lastSync int64
	for _, h := range s.allHosted() {
		lastSync = max(lastSync, h.sh.LastSync())
	}
	kv(b, "aof_last_fsync_time", lastSync)
	kv(b, "log_applied_index", s.appliedTotal())
	s.infoPersistenceCompat(b)
	kv(b, "disk_full", boolInt(s.disk.full.Load()))
	kv(b, "disk_state_changes", s.disk.changes.Load())
}

func infoStats(s *Server, cl *Client, b *strings.Builder) {
	st := &s.stats
	s.rates.mu.Lock()
	ops, inKB, outKB := s.rates.opsRate, s.rates.inKB, s.rates.outKB
	s.rates.mu.Unlock()
	kv(b, "total_connections_received", st.connections.Load())
	kv(b, "total_commands_processed", st.commands.Load())
	kv(b, "instantaneous_ops_per_sec", int64(ops+0.5))
	kv(b, "total_net_input_bytes", st.netIn.Load())
	kv(b, "total_net_output_bytes", st.netOut.Load())
	kv(b, "instantaneous_input_kbps", fmt.Sprintf("%.2f", inKB))
	kv(b, "instantaneous_output_kbps", fmt.Sprintf("%.2f", outKB))
	kv(b, "rejected_connections", st.rejected.Load())
	kv(b, "rate_limited_connections", st.rateLimited.Load())
	kv(b, "expired_keys", st.expiredKeys.Load())
	kv(b, "evicted_keys", 0)
	kv(b, "evicted_clients", st.evictedClients.Load())
	kv(b, "keyspace_hits", st.keyspaceHits.Load())
	kv(b, "keyspace_misses", st.keyspaceMisses.Load())
	kv(b, "pubsub_channels", s.hub.size(kindChannel))
	kv(b, "pubsub_patterns", s.hub.size(kindPattern))
	kv(b, "pubsubshard_channels", s.hub.size(kindShard))
	kv(b, "tracking_total_keys", s.trk.keys.Load())
	kv(b, "tracking_total_items", s.trk.items.Load())
	kv(b, "tracking_total_prefixes", s.trk.nprefix.Load())
	kv(b, "total_error_replies", st.errorReplies.Load())
	kv(b, "unexpected_error_replies", st.unexpectedErrs.Load())
	kv(b, "total_reads_processed", st.commands.Load())
	kv(b, "client_query_buffer_limit_disconnections", st.queryBufDisconnects.Load())
	kv(b, "client_output_buffer_limit_disconnections", st.outputLimitDisconnects.Load())
	kv(b, "pubsub_output_buffer_limit_disconnections", st.slowSubscribers.Load())
	kv(b, "protocol_errors", st.protoErrors.Load())
	kv(b, "offloop_reads", st.offLoopReads.Load())
	kv(b, "offloop_writes", st.offLoopWrites.Load())
	auth, cmd, key, channel := s.acl.Log.Stats()
	kv(b, "acl_access_denied_auth", auth)
	kv(b, "acl_access_denied_cmd", cmd)
	kv(b, "acl_access_denied_key", key)
	kv(b, "acl_access_denied_channel", channel)
}

func infoReplication(s *Server, cl *Client, b *strings.Builder) {
	if s.cluster != nil {
		infoClusterReplication(s.cluster, b)
		return
	}
	kv(b, "role", "master")
	kv(b, "connected_slaves", 0)
	kv(b, "master_failover_state", "no-failover")
	kv(b, "master_replid", s.runID)
	kv(b, "master_repl_offset", s.appliedTotal())
	kv(b, "repl_backlog_active", 0)
}

func infoCPU(s *Server, cl *Client, b *strings.Builder) {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	kv(b, "used_cpu_sys", fmt.Sprintf("%.6f", float64(ru.Stime.Sec)+float64(ru.Stime.Usec)/1e6))
	kv(b, "used_cpu_user", fmt.Sprintf("%.6f", float64(ru.Utime.Sec)+float64(ru.Utime.Usec)/1e6))
	kv(b, "used_cpu_sys_children", "0.000000")
	kv(b, "used_cpu_user_children", "0.000000")
}

func infoErrorstats(s *Server, cl *Client, b *strings.Builder) {
	for _, e := range s.errStats.snapshot() {
		fmt.Fprintf(b, "errorstat_%s:count=%d\r\n", e[0], e[1])
	}
}

func infoKeyspace(s *Server, cl *Client, b *strings.Builder) {
	keys, expires := s.keyCounts()
	for db := 0; db < keyspace.NumDBs; db++ {
		if keys[db] <= 0 {
			continue
		}
		fmt.Fprintf(b, "db%d:keys=%d,expires=%d,avg_ttl=0,subexpiry=0\r\n", db, keys[db], expires[db])
	}
}

// infoCommandstats lists the commands called at least once (or refused), as Redis does.
func infoCommandstats(s *Server, cl *Client, b *strings.Builder) {
	type row struct {
		name string
		st   *cmdStat
	}
	var rows []row
	for c, st := range s.cmdStats {
		if st.calls.Load() > 0 || st.rejected.Load() > 0 || st.failed.Load() > 0 {
			rows = append(rows, row{c.Name, st})
		}
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].name < rows[j].name })
	for _, r := range rows {
		calls, usec := r.st.calls.Load(), r.st.usec.Load()
		per := 0.0
		if calls > 0 {
			per = float64(usec) / float64(calls)
		}
		fmt.Fprintf(b, "cmdstat_%s:calls=%d,usec=%d,usec_per_call=%.2f,rejected_calls=%d,failed_calls=%d\r\n",
			r.name, calls, usec, per, r.st.rejected.Load(), r.st.failed.Load())
	}
}

// infoLatencystats gives, for each command with a latency histogram, the latencies at the
// latency-tracking-info-percentiles in microseconds, as fillPercentileDistributionLatencies
// writes them: p<percentile as %f without trailing zeros>=<%.3f>.
func infoLatencystats(s *Server, cl *Client, b *strings.Builder) {
	spec, _ := s.cfg.Get("latency-tracking-info-percentiles")
	var ps []float64
	for _, w := range strings.Fields(spec) {
		p, err := strconv.ParseFloat(w, 64)
		if err != nil {
			continue // CONFIG SET checked the list; a word that does not parse was never stored
		}
		ps = append(ps, p)
	}
	type row struct {
		name string
		snap *hdrSnapshot
	}
	var rows []row
	for c, st := range s.cmdStats {
		if snap := st.hist.snapshot(); snap != nil {
			rows = append(rows, row{c.Name, snap})
		}
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].name < rows[j].name })
	for _, r := range rows {
		b.WriteString("latency_percentiles_usec_" + r.name + ":")
		for j, p := range ps {
			if j > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(b, "p%s=%.3f", percentileLabel(p), float64(r.snap.percentile(p))/1000)
		}
		b.WriteString("\r\n")
	}
}

// percentileLabel prints p as C's %f trimmed of trailing zeros (trimDoubleString): 50, 99.9.
func percentileLabel(p float64) string {
	s := strconv.FormatFloat(p, 'f', 6, 64)
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}

func human(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2fG", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.2fM", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.2fK", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%dB", n)
}

// newRunID returns 40 random hex digits.
func newRunID() string {
	var b [20]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
