package server

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/cairn-db/cairn/internal/command"
	"github.com/cairn-db/cairn/internal/engine"
	"github.com/cairn-db/cairn/internal/keyspace"
)

func init() {
	registerLocal("config", cmdConfig)
	registerLocal("info", cmdInfo)
	registerLocal("shutdown", cmdShutdown)
	registerLocal("save", cmdSave)
	registerLocal("bgsave", cmdSave)
	registerLocal("lastsave", cmdLastSave)
}

func cmdConfig(s *Server, cl *Client, args [][]byte) {
	w := &cl.loop.w
	switch strings.ToLower(string(args[1])) {
	case "get":
		var pairs [][2]string
		seen := map[string]bool{}
		for _, pat := range args[2:] {
			for _, kv := range s.cfg.Match(string(pat)) {
				if !seen[kv[0]] {
					seen[kv[0]] = true
					pairs = append(pairs, kv)
				}
			}
		}
		w.Map(len(pairs))
		for _, kv := range pairs {
			w.BulkString(kv[0])
			w.BulkString(kv[1])
		}
	case "set":
		if len(args)%2 != 0 {
			w.Error(command.ErrWrongArgs("config|set"))
			return
		}
		pairs := make([][2]string, 0, (len(args)-2)/2)
		for i := 2; i < len(args); i += 2 {
			pairs = append(pairs, [2]string{string(args[i]), string(args[i+1])})
		}
		if e := s.cfg.SetMany(pairs); e != nil {
			if e.Unknown {
				w.Error("ERR Unknown option or number of arguments for CONFIG SET - '" + e.Arg + "'")
			} else {
				w.Error("ERR CONFIG SET failed (possibly related to argument '" + e.Arg + "') - " + e.Msg)
			}
			return
		}
		s.configChanged()
		w.OK()
	case "resetstat":
		s.resetStats()
		w.OK()
	case "rewrite":
		if err := s.cfg.Rewrite(); err != nil {
			w.Error("ERR " + err.Error())
			return
		}
		w.OK()
	case "help":
		lines := []string{
			"CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
			"GET <pattern>", "    Return parameters matching the glob-like <pattern> and their values.",
			"SET <directive> <value>", "    Set the configuration <directive> to <value>.",
			"RESETSTAT", "    Reset statistics reported by the INFO command.",
			"REWRITE", "    Rewrite the configuration file.",
			"HELP", "    Print this help.",
		}
		w.Array(len(lines))
		for _, l := range lines {
			w.Status(l)
		}
	default:
		w.Error("ERR unknown subcommand '" + string(args[1]) + "'. Try CONFIG HELP.")
	}
}

// configChanged pushes changed parameters to the parts of the server that cache them.
func (s *Server) configChanged() {
	s.limits.MaxBulkLen = s.cfg.ProtoMaxBulkLen()
	if p, err := engine.ParseSyncPolicy(s.cfg.AppendFsync); err == nil {
		s.eng.SetSyncPolicy(p)
	}
}

func (s *Server) resetStats() {
	st := &s.stats
	for _, c := range []interface{ Store(int64) }{&st.connections, &st.rejected, &st.commands, &st.netIn, &st.netOut,
		&st.keyspaceHits, &st.keyspaceMisses, &st.expiredKeys, &st.errorReplies, &st.protoErrors, &st.bigValues} {
		c.Store(0)
	}
	s.cmdStats.reset()
	s.errStats.reset()
}

func cmdShutdown(s *Server, cl *Client, args [][]byte) {
	for _, a := range args[1:] {
		switch strings.ToLower(string(a)) {
		case "nosave", "save", "now", "force", "abort":
		default:
			cl.loop.w.Error(command.ErrSyntax)
			return
		}
		if strings.EqualFold(string(a), "abort") {
			cl.loop.w.Error("ERR No shutdown in progress.")
			return
		}
	}
	s.logger.Info("shutdown requested by a client", "client_id", cl.id)
	s.Shutdown()
	cl.closeAfterReply = true
}

// cmdSave writes a Pebble checkpoint of the data under dir/checkpoints: a consistent copy that
// restore can start from. SAVE and BGSAVE both take it at once; a checkpoint is hard links, cheap
// to make.
func cmdSave(s *Server, cl *Client, args [][]byte) {
	w := &cl.loop.w
	bg := strings.EqualFold(string(args[0]), "bgsave")
	if bg && len(args) > 2 || (bg && len(args) == 2 && !strings.EqualFold(string(args[1]), "schedule")) {
		w.Error(command.ErrSyntax)
		return
	}
	if err := s.checkpoint(); err != nil {
		w.Error("ERR " + err.Error())
		return
	}
	if bg {
		w.Status("Background saving started")
		return
	}
	w.OK()
}

// checkpoint replaces dir/checkpoint with a fresh copy of the engine.
func (s *Server) checkpoint() error {
	dest := filepath.Join(s.cfg.Dir, "checkpoint")
	tmp := dest + ".tmp-" + strconv.FormatInt(time.Now().UnixNano(), 10)
	if err := s.eng.Checkpoint(tmp); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	_ = os.RemoveAll(dest)
	if err := os.Rename(tmp, dest); err != nil {
		return err
	}
	s.lastSave.Store(time.Now().Unix())
	return nil
}

func cmdLastSave(s *Server, cl *Client, args [][]byte) {
	cl.loop.w.Int(s.lastSave.Load())
}

func cmdInfo(s *Server, cl *Client, args [][]byte) {
	sections := map[string]bool{}
	for _, a := range args[1:] {
		sections[strings.ToLower(string(a))] = true
	}
	all := len(sections) == 0 || sections["all"] || sections["everything"] || sections["default"]
	var b strings.Builder
	for _, sec := range infoSections {
		if !all && !sections[sec.name] {
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

var infoSections = []struct {
	name, title string
	fill        func(s *Server, cl *Client, b *strings.Builder)
}{
	{"server", "Server", infoServer},
	{"clients", "Clients", infoClients},
	{"memory", "Memory", infoMemory},
	{"persistence", "Persistence", infoPersistence},
	{"stats", "Stats", infoStats},
	{"replication", "Replication", infoReplication},
	{"cpu", "CPU", infoCPU},
	{"keyspace", "Keyspace", infoKeyspace},
}

func kv(b *strings.Builder, k string, v any) {
	fmt.Fprintf(b, "%s:%v\r\n", k, v)
}

func infoServer(s *Server, cl *Client, b *strings.Builder) {
	up := time.Since(s.started)
	kv(b, "redis_version", Version)
	kv(b, "cairn_version", CairnVersion)
	kv(b, "redis_mode", "standalone")
	kv(b, "os", runtime.GOOS+" "+runtime.GOARCH)
	kv(b, "arch_bits", 64)
	kv(b, "go_version", runtime.Version())
	kv(b, "process_id", os.Getpid())
	kv(b, "tcp_port", s.cfg.Port)
	kv(b, "server_time_usec", time.Now().UnixMicro())
	kv(b, "uptime_in_seconds", int64(up.Seconds()))
	kv(b, "uptime_in_days", int64(up.Hours()/24))
	kv(b, "hz", s.cfg.Hz())
	kv(b, "executable", os.Args[0])
	kv(b, "config_file", s.cfg.File)
}

func infoClients(s *Server, cl *Client, b *strings.Builder) {
	s.clientsMu.Lock()
	n := len(s.clients)
	s.clientsMu.Unlock()
	kv(b, "connected_clients", n)
	kv(b, "maxclients", s.cfg.MaxClients())
	kv(b, "blocked_clients", s.blockedClients.Load())
	kv(b, "tracking_clients", 0)
	kv(b, "pubsub_clients", 0)
	kv(b, "watching_clients", 0)
}

func infoMemory(s *Server, cl *Client, b *strings.Builder) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	m := s.eng.Metrics()
	kv(b, "used_memory", ms.HeapAlloc)
	kv(b, "used_memory_human", human(int64(ms.HeapAlloc)))
	kv(b, "used_memory_rss", ms.Sys)
	kv(b, "used_memory_peak", ms.HeapSys)
	kv(b, "maxmemory", 0)
	kv(b, "maxmemory_policy", "noeviction")
	kv(b, "engine_memtable_bytes", m.MemTableBytes)
	kv(b, "engine_block_cache_bytes", m.CacheBytes)
	kv(b, "engine_block_cache_hits", m.CacheHits)
	kv(b, "engine_block_cache_misses", m.CacheMisses)
	kv(b, "engine_disk_bytes", m.DiskBytes)
	kv(b, "big_values_written", s.stats.bigValues.Load())
}

func infoPersistence(s *Server, cl *Client, b *strings.Builder) {
	kv(b, "loading", 0)
	kv(b, "aof_enabled", 1)
	kv(b, "appendfsync", s.eng.SyncPolicy().String())
	kv(b, "aof_last_fsync_time", s.eng.LastSync())
	kv(b, "rdb_last_save_time", s.lastSave.Load())
	kv(b, "rdb_bgsave_in_progress", 0)
	kv(b, "aof_rewrite_in_progress", 0)
	kv(b, "log_applied_index", s.log.Applied())
}

func infoStats(s *Server, cl *Client, b *strings.Builder) {
	st := &s.stats
	kv(b, "total_connections_received", st.connections.Load())
	kv(b, "total_commands_processed", st.commands.Load())
	kv(b, "total_net_input_bytes", st.netIn.Load())
	kv(b, "total_net_output_bytes", st.netOut.Load())
	kv(b, "rejected_connections", st.rejected.Load())
	kv(b, "expired_keys", st.expiredKeys.Load())
	kv(b, "evicted_keys", 0)
	kv(b, "keyspace_hits", st.keyspaceHits.Load())
	kv(b, "keyspace_misses", st.keyspaceMisses.Load())
	kv(b, "total_error_replies", st.errorReplies.Load())
	kv(b, "unexpected_error_replies", st.unexpectedErrs.Load())
	kv(b, "protocol_errors", st.protoErrors.Load())
}

func infoReplication(s *Server, cl *Client, b *strings.Builder) {
	kv(b, "role", "master")
	kv(b, "connected_slaves", 0)
	kv(b, "master_repl_offset", s.log.Applied())
}

func infoCPU(s *Server, cl *Client, b *strings.Builder) {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	kv(b, "used_cpu_sys", fmt.Sprintf("%.6f", float64(ru.Stime.Sec)+float64(ru.Stime.Usec)/1e6))
	kv(b, "used_cpu_user", fmt.Sprintf("%.6f", float64(ru.Utime.Sec)+float64(ru.Utime.Usec)/1e6))
}

func infoKeyspace(s *Server, cl *Client, b *strings.Builder) {
	for db := 0; db < keyspace.NumDBs; db++ {
		phys := s.state.Physical(db)
		keys := s.state.Keys(phys)
		if keys <= 0 {
			continue
		}
		fmt.Fprintf(b, "db%d:keys=%d,expires=%d,avg_ttl=0,subexpiry=0\r\n", db, keys, s.state.Expires(phys))
	}
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
