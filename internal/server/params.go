package server

import (
	"log/slog"
	"math"
	"strings"
)

// params lists every parameter cairn accepts: those Redis 8 reports for CONFIG GET *, with
// Redis's defaults, ranges and aliases, plus cairn's own (cache-size). Those marked used
// change what cairn does; the rest are Redis's tuning knobs for its in-memory encodings,
// replication, TLS, modules and the like: they are accepted, validated and reported so that
// configuration files and tools that set them keep working, but cairn does not act on them (the
// README lists them).
var params = []*param{
	// Networking and connections.
	{name: "bind", def: "127.0.0.1", kind: kindList, immutable: true, used: true, apply: func(c *Config, v string) { c.Bind = bindAddrs(v) }},
	{name: "bind-source-addr", def: ""},
	{name: "port", def: "6379", kind: kindInt, min: 0, max: 65535, immutable: true, used: true, apply: func(c *Config, v string) { c.Port = atoi(v) }},
	{name: "tcp-backlog", def: "511", kind: kindInt, min: 0, max: math.MaxInt32, immutable: true},
	{name: "tcp-keepalive", def: "300", kind: kindInt, min: 0, max: math.MaxInt32, used: true, apply: func(c *Config, v string) { c.TCPKeepAlive = atoi(v) }},
	{name: "timeout", def: "0", kind: kindInt, min: 0, max: math.MaxInt32, used: true, apply: func(c *Config, v string) { c.live.timeout.Store(int64(atoi(v))) }},
	{name: "maxclients", def: "10000", kind: kindInt, min: 1, max: math.MaxUint32, used: true, apply: func(c *Config, v string) { c.live.maxClients.Store(int64(atoi(v))) }},
	{name: "unixsocket", def: "", immutable: true},
	{name: "unixsocketgroup", def: "", immutable: true},
	{name: "unixsocketperm", def: "0", kind: kindOctal, min: 0, max: 0o777, immutable: true},
	{name: "protected-mode", def: "yes", kind: kindBool, used: true, apply: func(c *Config, v string) { c.protectedMode.Store(v == "yes") }},
	{name: "socket-mark-id", def: "0", kind: kindInt, min: 0, max: math.MaxUint32},
	{name: "max-new-connections-per-cycle", def: "10", kind: kindInt, min: 1, max: 1000},
	{name: "max-new-tls-connections-per-cycle", def: "1", kind: kindInt, min: 1, max: 1000},
	// max-new-connections-per-second is cairn's own: new connections over the rate are
	// refused (connrate.go); 0 sets no limit.
	{name: "max-new-connections-per-second", def: "0", kind: kindInt, min: 0, max: math.MaxInt32, used: true, apply: func(c *Config, v string) { c.live.maxNewConnsPerSec.Store(int64(atoi(v))) }},
	{name: "client-query-buffer-limit", def: "1073741824", kind: kindMemory, min: 1 << 20, max: math.MaxInt64, used: true, apply: func(c *Config, v string) { c.live.queryBufLimit.Store(memory(v)) }},
	{name: "proto-max-bulk-len", def: "536870912", kind: kindMemory, min: 1 << 20, max: math.MaxInt64, used: true, apply: func(c *Config, v string) { c.live.maxBulkLen.Store(memory(v)) }},
	{name: "client-output-buffer-limit", def: "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60", kind: kindOutputLimit, used: true, apply: applyOutputLimits},
	{name: "maxmemory-clients", def: "0", kind: kindMemoryPercent, min: 0, max: math.MaxInt64, used: true},
	{name: "min-free-disk", def: "64mb", kind: kindMemory, min: 0, max: math.MaxInt64, used: true},
	{name: "io-threads", def: "1", kind: kindInt, min: 1, max: 128, immutable: true},
	{name: "requirepass", def: "", used: true, sensitive: true, apply: applyRequirePass},
	{name: "masterauth", def: "", sensitive: true},
	{name: "masteruser", def: ""},
	{name: "aclfile", def: "", immutable: true, used: true},
	{name: "acllog-max-len", def: "128", kind: kindInt, min: 0, max: math.MaxInt64, used: true},
	{name: "acl-pubsub-default", def: "resetchannels", kind: kindEnum, enum: []string{"allchannels", "resetchannels"}, used: true},
	{name: "hide-user-data-from-log", def: "no", kind: kindBool},

	// General.
	{name: "daemonize", def: "no", kind: kindBool, immutable: true},
	{name: "supervised", def: "no", kind: kindEnum, enum: []string{"upstart", "systemd", "auto", "no"}, immutable: true},
	{name: "pidfile", def: "", immutable: true},
	{name: "loglevel", def: "notice", kind: kindEnum, enum: []string{"debug", "verbose", "notice", "warning", "nothing"}, used: true, apply: func(c *Config, v string) { c.LogLevel = v; c.Level.Set(slogLevel(v)) }},
	{name: "logfile", def: "", immutable: true, used: true, apply: func(c *Config, v string) { c.LogFile = v }},
	{name: "syslog-enabled", def: "no", kind: kindBool, immutable: true},
	{name: "syslog-ident", def: "redis", immutable: true},
	{name: "syslog-facility", def: "local0", kind: kindEnum, enum: []string{"user", "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7"}, immutable: true},
	{name: "crash-log-enabled", def: "yes", kind: kindBool},
	{name: "crash-memcheck-enabled", def: "yes", kind: kindBool},
	{name: "databases", def: "16", kind: kindInt, min: 16, max: 16, immutable: true},
	{name: "always-show-logo", def: "no", kind: kindBool, immutable: true},
	{name: "set-proc-title", def: "yes", kind: kindBool, immutable: true},
	{name: "proc-title-template", def: "{title} {listen-addr} {server-mode}"},
	{name: "locale-collate", def: ""},
	{name: "enable-protected-configs", def: "no", kind: kindEnum, enum: []string{"no", "yes", "local"}, immutable: true},
	{name: "enable-debug-command", def: "no", kind: kindEnum, enum: []string{"no", "yes", "local"}, immutable: true, used: true, apply: func(c *Config, v string) { c.EnableDebugCommand = v }},
	{name: "enable-module-command", def: "no", kind: kindEnum, enum: []string{"no", "yes", "local"}, immutable: true},
	{name: "hz", def: "10", kind: kindInt, min: math.MinInt32, max: math.MaxInt32, clamp: [2]int64{1, 500}, used: true, apply: func(c *Config, v string) { c.live.hz.Store(int64(atoi(v))) }},
	{name: "dynamic-hz", def: "yes", kind: kindBool},
	{name: "shutdown-timeout", def: "10", kind: kindInt, min: 0, max: math.MaxInt32},
	{name: "shutdown-on-sigint", def: "default", kind: kindFlags, enum: []string{"default", "save", "nosave", "now", "force"}},
	{name: "shutdown-on-sigterm", def: "default", kind: kindFlags, enum: []string{"default", "save", "nosave", "now", "force"}},
	{name: "oom-score-adj", def: "no", kind: kindEnum, enum: []string{"no", "yes", "relative", "absolute"}},
	{name: "oom-score-adj-values", def: "0 200 800", kind: kindIntList, min: 3, max: 3},
	{name: "disable-thp", def: "yes", kind: kindBool},
	{name: "jemalloc-bg-thread", def: "yes", kind: kindBool},
	{name: "ignore-warnings", def: ""},
	{name: "server_cpulist", def: "", immutable: true},
	{name: "bio_cpulist", def: "", immutable: true},
	{name: "aof_rewrite_cpulist", def: "", immutable: true},
	{name: "bgsave_cpulist", def: "", immutable: true},

	// Persistence. cairn always logs every write (appendonly is fixed at yes); appendfsync
	// chooses when the log is synced.
	{name: "dir", def: "./cairn-data", immutable: true, used: true, apply: func(c *Config, v string) { c.Dir = v }},
	{name: "appendonly", def: "yes", kind: kindBool, used: true, check: func(v string) string {
		if v != "yes" {
			return "cairn always keeps its write log; use appendfsync to choose durability"
		}
		return ""
	}},
	{name: "appendfsync", def: "everysec", kind: kindEnum, enum: []string{"always", "everysec", "no"}, used: true, apply: func(c *Config, v string) { c.AppendFsync = v }},
	{name: "appendfilename", def: "appendonly.aof", immutable: true},
	{name: "appenddirname", def: "appendonlydir", immutable: true},
	{name: "save", def: "", kind: kindSave},
	{name: "dbfilename", def: "dump.rdb"},
	{name: "rdbcompression", def: "yes", kind: kindBool},
	{name: "rdbchecksum", def: "yes", kind: kindBool},
	{name: "rdb-del-sync-files", def: "no", kind: kindBool},
	{name: "rdb-save-incremental-fsync", def: "yes", kind: kindBool},
	{name: "stop-writes-on-bgsave-error", def: "yes", kind: kindBool},
	{name: "sanitize-dump-payload", def: "no", kind: kindEnum, enum: []string{"no", "yes", "clients"}},
	{name: "no-appendfsync-on-rewrite", def: "no", kind: kindBool},
	{name: "auto-aof-rewrite-percentage", def: "100", kind: kindInt, min: 0, max: math.MaxInt32},
	{name: "auto-aof-rewrite-min-size", def: "67108864", kind: kindMemory, min: 0, max: math.MaxInt64},
	{name: "aof-load-truncated", def: "yes", kind: kindBool},
	{name: "aof-use-rdb-preamble", def: "yes", kind: kindBool},
	{name: "aof-timestamp-enabled", def: "no", kind: kindBool},
	{name: "aof-rewrite-incremental-fsync", def: "yes", kind: kindBool},
	{name: "aof-disable-auto-gc", def: "no", kind: kindBool},
	{name: "record-cache-size", def: "268435456", kind: kindMemory, min: 0, max: math.MaxInt64, immutable: true, used: true, apply: func(c *Config, v string) { c.RecordCacheSize = memory(v) }},
	{name: "cache-size", def: "268435456", kind: kindMemory, min: 1 << 20, max: math.MaxInt64, immutable: true, used: true, apply: func(c *Config, v string) { c.CacheSize = memory(v) }},

	// Memory and eviction. cairn keeps data on disk and does not evict.
	{name: "maxmemory", def: "0", kind: kindMemory, min: 0, max: math.MaxInt64},
	{name: "maxmemory-policy", def: "noeviction", kind: kindEnum, enum: []string{"volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl", "allkeys-lru", "allkeys-lfu", "allkeys-random", "noeviction"}},
	{name: "maxmemory-samples", def: "5", kind: kindInt, min: 1, max: 64},
	{name: "maxmemory-eviction-tenacity", def: "10", kind: kindInt, min: 0, max: 100},
	{name: "lfu-log-factor", def: "10", kind: kindInt, min: 0, max: math.MaxInt32},
	{name: "lfu-decay-time", def: "1", kind: kindInt, min: 0, max: math.MaxInt32},
	{name: "active-expire-effort", def: "1", kind: kindInt, min: 1, max: 10},
	{name: "lazyfree-lazy-eviction", def: "no", kind: kindBool},
	{name: "lazyfree-lazy-expire", def: "no", kind: kindBool},
	{name: "lazyfree-lazy-server-del", def: "no", kind: kindBool},
	{name: "lazyfree-lazy-user-del", def: "no", kind: kindBool},
	{name: "lazyfree-lazy-user-flush", def: "no", kind: kindBool},
	{name: "activerehashing", def: "yes", kind: kindBool},
	{name: "activedefrag", def: "no", kind: kindBool},
	{name: "active-defrag-ignore-bytes", def: "104857600", kind: kindMemory, min: 1, max: math.MaxInt64},
	{name: "active-defrag-threshold-lower", def: "10", kind: kindInt, min: 0, max: 1000},
	{name: "active-defrag-threshold-upper", def: "100", kind: kindInt, min: 0, max: 1000},
	{name: "active-defrag-cycle-min", def: "1", kind: kindInt, min: 1, max: 99},
	{name: "active-defrag-cycle-max", def: "25", kind: kindInt, min: 1, max: 99},
	{name: "active-defrag-max-scan-fields", def: "1000", kind: kindInt, min: 1, max: math.MaxInt64},

	// Encodings of small values (Redis's in-memory formats; cairn's layout does not use them).
	{name: "hash-max-listpack-entries", alias: "hash-max-ziplist-entries", def: "128", kind: kindInt, min: 0, max: math.MaxInt64},
	{name: "hash-max-listpack-value", alias: "hash-max-ziplist-value", def: "64", kind: kindInt, min: 0, max: math.MaxInt64},
	{name: "list-max-listpack-size", alias: "list-max-ziplist-size", def: "-2", kind: kindInt, min: math.MinInt32, max: math.MaxInt32},
	{name: "list-compress-depth", def: "0", kind: kindInt, min: 0, max: math.MaxInt32},
	{name: "set-max-intset-entries", def: "512", kind: kindInt, min: 0, max: math.MaxInt64},
	{name: "set-max-listpack-entries", def: "128", kind: kindInt, min: 0, max: math.MaxInt64},
	{name: "set-max-listpack-value", def: "64", kind: kindInt, min: 0, max: math.MaxInt64},
	{name: "zset-max-listpack-entries", alias: "zset-max-ziplist-entries", def: "128", kind: kindInt, min: 0, max: math.MaxInt64},
	{name: "zset-max-listpack-value", alias: "zset-max-ziplist-value", def: "64", kind: kindInt, min: 0, max: math.MaxInt64},
	{name: "hll-sparse-max-bytes", def: "3000", kind: kindMemory, min: 0, max: math.MaxInt64, used: true},
	{name: "stream-node-max-bytes", def: "4096", kind: kindMemory, min: 0, max: math.MaxInt64},
	{name: "stream-node-max-entries", def: "100", kind: kindInt, min: 0, max: math.MaxInt64},

	// Diagnostics.
	{name: "slowlog-log-slower-than", def: "10000", kind: kindInt, min: -1, max: math.MaxInt64, used: true, apply: func(c *Config, v string) { c.live.slowlogSlower.Store(int64(atoi(v))) }},
	{name: "slowlog-max-len", def: "128", kind: kindInt, min: 0, max: math.MaxInt64, used: true, apply: func(c *Config, v string) { c.live.slowlogMaxLen.Store(int64(atoi(v))) }},
	{name: "latency-monitor-threshold", def: "0", kind: kindInt, min: 0, max: math.MaxInt64, used: true, apply: func(c *Config, v string) { c.live.latencyThreshold.Store(int64(atoi(v))) }},
	{name: "latency-tracking", def: "yes", kind: kindBool, used: true, apply: func(c *Config, v string) { c.live.latencyTracking.Store(v == "yes") }},
	{name: "latency-tracking-info-percentiles", def: "50 99 99.9", kind: kindPercentiles},
	{name: "notify-keyspace-events", def: "", kind: kindNotify, used: true, apply: applyNotify},
	{name: "tracking-table-max-keys", def: "1000000", kind: kindInt, min: 0, max: math.MaxInt64, used: true, apply: func(c *Config, v string) {
		c.live.trackingMaxKeys.Store(int64(atoi(v)))
	}},
	{name: "busy-reply-threshold", alias: "lua-time-limit", def: "5000", kind: kindInt, min: 0, max: math.MaxInt64, used: true, apply: func(c *Config, v string) { busyThresholdMs.Store(int64(atoi(v))) }},

	// Replication.
	{name: "replicaof", alias: "slaveof", def: "", immutable: true},
	{name: "replica-read-only", alias: "slave-read-only", def: "yes", kind: kindBool},
	{name: "replica-serve-stale-data", alias: "slave-serve-stale-data", def: "yes", kind: kindBool},
	{name: "replica-priority", alias: "slave-priority", def: "100", kind: kindInt, min: 0, max: math.MaxInt32},
	{name: "replica-lazy-flush", alias: "slave-lazy-flush", def: "no", kind: kindBool},
	{name: "replica-ignore-maxmemory", alias: "slave-ignore-maxmemory", def: "yes", kind: kindBool},
	{name: "replica-announce-ip", alias: "slave-announce-ip", def: ""},
	{name: "replica-announce-port", alias: "slave-announce-port", def: "0", kind: kindInt, min: 0, max: 65535},
	{name: "replica-announced", def: "yes", kind: kindBool},
	{name: "replica-ignore-disk-write-errors", def: "no", kind: kindBool},
	{name: "replica-full-sync-buffer-limit", def: "0", kind: kindMemory, min: 0, max: math.MaxInt64},
	{name: "min-replicas-to-write", alias: "min-slaves-to-write", def: "0", kind: kindInt, min: 0, max: math.MaxInt32},
	{name: "min-replicas-max-lag", alias: "min-slaves-max-lag", def: "10", kind: kindInt, min: 0, max: math.MaxInt32},
	{name: "repl-ping-replica-period", alias: "repl-ping-slave-period", def: "10", kind: kindInt, min: 1, max: math.MaxInt32},
	{name: "repl-timeout", def: "60", kind: kindInt, min: 1, max: math.MaxInt32},
	{name: "repl-backlog-size", def: "1048576", kind: kindMemory, min: 1, max: math.MaxInt64},
	{name: "repl-backlog-ttl", def: "3600", kind: kindInt, min: 0, max: math.MaxInt32},
	{name: "repl-disable-tcp-nodelay", def: "no", kind: kindBool},
	{name: "repl-diskless-sync", def: "yes", kind: kindBool},
	{name: "repl-diskless-sync-delay", def: "5", kind: kindInt, min: 0, max: math.MaxInt32},
	{name: "repl-diskless-sync-max-replicas", def: "0", kind: kindInt, min: 0, max: math.MaxInt32},
	{name: "repl-diskless-load", def: "disabled", kind: kindEnum, enum: []string{"disabled", "on-empty-db", "swapdb"}},
	{name: "propagation-error-behavior", def: "ignore", kind: kindEnum, enum: []string{"ignore", "panic", "panic-on-replicas"}},

	// Cluster.
	{name: "cluster-enabled", def: "no", kind: kindBool, immutable: true, apply: func(c *Config, v string) { c.ClusterEnabled = v == "yes" }},
	{name: "cluster-config-file", def: "nodes.conf", immutable: true},
	{name: "cluster-port", def: "0", kind: kindInt, min: 0, max: 65535, immutable: true, apply: func(c *Config, v string) { c.ClusterPort = atoi(v) }},
	// cluster-node-timeout is Raft's election timeout in ms (a tenth of it is one tick). Its
	// default is far below Redis's 15000 so a lost leader is replaced within about a second
	// (Raft waits between one and two timeouts), yet leaves room for a loaded machine.
	{name: "cluster-node-timeout", def: "750", kind: kindInt, min: 50, max: 600000, immutable: true, apply: func(c *Config, v string) { c.ClusterNodeTimeout = atoi(v) }},
	{name: "cluster-proxy", def: "no", kind: kindBool, apply: func(c *Config, v string) { c.clusterProxy.Store(v == "yes") }},
	{name: "cluster-initial", def: "", immutable: true, apply: func(c *Config, v string) { c.ClusterInitial = v }},
	// cluster-snapshot-entries is how many entries a node applies between checkpoints of its
	// data; the Raft log is compacted behind them (cairn's own).
	{name: "cluster-snapshot-entries", def: "50000", kind: kindInt, min: 10, max: math.MaxInt32, immutable: true, apply: func(c *Config, v string) { c.ClusterSnapshotEntries = atoi(v) }},
	{name: "cluster-join", def: "", immutable: true, apply: func(c *Config, v string) { c.ClusterJoin = v }},
	// cluster-rebalance lets the meta group's leader move replicas onto joining nodes, off
	// draining ones and off nodes dead for cluster-dead-after seconds, and even out preferred
	// leaders (cairn's own).
	{name: "cluster-rebalance", def: "yes", kind: kindBool, apply: func(c *Config, v string) { c.clusterRebalance.Store(v == "yes") }},
	// cluster-slot-migrate-rate bounds the bytes of records per second a slot move copies
	// between shards (0: no bound; cairn's own; slotmove.go).
	{name: "cluster-slot-migrate-rate", def: "33554432", kind: kindMemory, min: 0, max: math.MaxInt64, apply: func(c *Config, v string) { c.clusterSlotRate.Store(memory(v)) }},
	// cluster-shard-max-bytes is the size (its leader's engine on disk) above which the meta
	// group's leader splits a shard in two (0: never); cluster-shard-merge lets it merge two
	// small, quiet adjacent shards (cairn's own; split.go).
	{name: "cluster-shard-max-bytes", def: "536870912", kind: kindMemory, min: 0, max: math.MaxInt64, apply: func(c *Config, v string) { c.clusterShardMaxBytes.Store(memory(v)) }},
	// cluster-shard-max-ops is the command rate at its leader (per second) above which, for 15
	// seconds on end, the meta group's leader splits a shard where its load is half on each side
	// (0: never; cairn's own; split.go).
	{name: "cluster-shard-max-ops", def: "0", kind: kindInt, min: 0, max: math.MaxInt64, apply: func(c *Config, v string) { c.clusterShardMaxOps.Store(int64(atoi(v))) }},
	{name: "cluster-shard-merge", def: "no", kind: kindBool, apply: func(c *Config, v string) { c.clusterShardMerge.Store(v == "yes") }},
	// cluster-rebalance-rate bounds the bytes per second of snapshots this node streams to
	// others together — a replica moving onto another node, or a follower too far behind for
	// the log — so that clients keep their latency during moves (0: no bound; cairn's own).
	{name: "cluster-rebalance-rate", def: "33554432", kind: kindMemory, min: 0, max: math.MaxInt64, apply: func(c *Config, v string) { c.clusterRebalanceRate.Store(memory(v)) }},
	// debug-code-version is for tests only: the node plays a binary of that (older) cluster
	// version — it advertises it, and refuses to run in a cluster past it (server/version.go).
	{name: "debug-code-version", def: "0", kind: kindInt, min: 0, max: math.MaxInt32, immutable: true, apply: func(c *Config, v string) { c.DebugCodeVersion = atoi(v) }},
	{name: "cluster-dead-after", def: "300", kind: kindInt, min: 1, max: math.MaxInt32, apply: func(c *Config, v string) { c.clusterDeadAfter.Store(int64(atoi(v))) }},
	// cluster-meta-size is how many members the meta group's leader grows the meta group to
	// as nodes join (fewer while fewer nodes are active; cairn's own; cluster/metamove.go).
	// Members on draining and dead nodes are replaced whatever it says.
	{name: "cluster-meta-size", def: "5", kind: kindInt, min: 1, max: 5, apply: func(c *Config, v string) { c.clusterMetaSize.Store(int64(atoi(v))) }},
	// cluster-shards is how many shards a new cluster splits the slots into (0: four per
	// founding node); cluster-replicas how many replicas each has (fewer if there are fewer
	// founding nodes). Both are cairn's own and matter only when a cluster is founded.
	{name: "cluster-shards", def: "0", kind: kindInt, min: 0, max: 16384, immutable: true, apply: func(c *Config, v string) { c.ClusterShards = atoi(v) }},
	{name: "cluster-replicas", def: "3", kind: kindInt, min: 1, max: 15, immutable: true, apply: func(c *Config, v string) { c.ClusterReplicas = atoi(v) }},
	{name: "cluster-replica-validity-factor", alias: "cluster-slave-validity-factor", def: "10", kind: kindInt, min: 0, max: math.MaxInt32},
	{name: "cluster-replica-no-failover", alias: "cluster-slave-no-failover", def: "no", kind: kindBool},
	{name: "cluster-migration-barrier", def: "1", kind: kindInt, min: 0, max: math.MaxInt32},
	{name: "cluster-allow-replica-migration", def: "yes", kind: kindBool},
	{name: "cluster-require-full-coverage", def: "yes", kind: kindBool},
	{name: "cluster-allow-reads-when-down", def: "no", kind: kindBool},
	{name: "cluster-allow-pubsubshard-when-down", def: "yes", kind: kindBool},
	{name: "cluster-link-sendbuf-limit", def: "0", kind: kindMemory, min: 0, max: math.MaxInt64},
	{name: "cluster-announce-ip", def: "", immutable: true, apply: func(c *Config, v string) { c.ClusterAnnounceIP = v }},
	{name: "cluster-announce-port", def: "0", kind: kindInt, min: 0, max: 65535},
	{name: "cluster-announce-tls-port", def: "0", kind: kindInt, min: 0, max: 65535},
	{name: "cluster-announce-bus-port", def: "0", kind: kindInt, min: 0, max: 65535, immutable: true, apply: func(c *Config, v string) { c.ClusterAnnounceBusPort = atoi(v) }},
	{name: "cluster-announce-hostname", def: ""},
	{name: "cluster-announce-human-nodename", def: ""},
	{name: "cluster-preferred-endpoint-type", def: "ip", kind: kindEnum, enum: []string{"ip", "hostname", "unknown-endpoint"}},
	{name: "cluster-compatibility-sample-ratio", def: "0", kind: kindInt, min: 0, max: 100},
	// metrics-addr is cairn's own: where Prometheus metrics are served (empty: nowhere).
	{name: "metrics-addr", def: "", immutable: true, used: true, apply: func(c *Config, v string) { c.MetricsAddr = v }},
	// cluster-secret is cairn's own: the secret every bus connection proves (transport).
	{name: "cluster-secret", def: "", immutable: true, used: true, sensitive: true, apply: func(c *Config, v string) { c.ClusterSecret = v }},

	// TLS (tlsconf.go, tls.go).
	{name: "tls-port", def: "0", kind: kindInt, min: 0, max: 65535, immutable: true, used: true, apply: func(c *Config, v string) { c.setTLS(func(p *tlsParams) { p.port = atoi(v) }) }},
	{name: "tls-cert-file", def: "", used: true, apply: func(c *Config, v string) { c.setTLS(func(p *tlsParams) { p.certFile = v }) }},
	{name: "tls-key-file", def: "", used: true, apply: func(c *Config, v string) { c.setTLS(func(p *tlsParams) { p.keyFile = v }) }},
	{name: "tls-key-file-pass", def: "", sensitive: true},
	{name: "tls-client-cert-file", def: "", used: true, apply: func(c *Config, v string) { c.setTLS(func(p *tlsParams) { p.clientCertFile = v }) }},
	{name: "tls-client-key-file", def: "", used: true, apply: func(c *Config, v string) { c.setTLS(func(p *tlsParams) { p.clientKeyFile = v }) }},
	{name: "tls-client-key-file-pass", def: "", sensitive: true},
	{name: "tls-dh-params-file", def: ""},
	{name: "tls-ca-cert-file", def: "", used: true, apply: func(c *Config, v string) { c.setTLS(func(p *tlsParams) { p.caFile = v }) }},
	{name: "tls-ca-cert-dir", def: ""},
	{name: "tls-auth-clients", def: "yes", kind: kindEnum, enum: []string{"no", "yes", "optional"}, used: true, apply: func(c *Config, v string) { c.setTLS(func(p *tlsParams) { p.authClients = v }) }},
	{name: "tls-replication", def: "no", kind: kindBool},
	{name: "tls-cluster", def: "no", kind: kindBool, immutable: true, used: true, apply: func(c *Config, v string) { c.setTLS(func(p *tlsParams) { p.cluster = v == "yes" }) }},
	{name: "tls-protocols", def: "", used: true, check: checkTLSProtocols, apply: func(c *Config, v string) { c.setTLS(func(p *tlsParams) { p.protocols = v }) }},
	{name: "tls-ciphers", def: "", used: true, check: checkTLSCiphers, apply: func(c *Config, v string) { c.setTLS(func(p *tlsParams) { p.ciphers = v }) }},
	{name: "tls-ciphersuites", def: "", used: true, check: checkTLSCipherSuites, apply: func(c *Config, v string) { c.setTLS(func(p *tlsParams) { p.ciphersuites = v }) }},
	{name: "tls-prefer-server-ciphers", def: "no", kind: kindBool},
	{name: "tls-session-caching", def: "yes", kind: kindBool},
	{name: "tls-session-cache-size", def: "20480", kind: kindInt, min: 0, max: math.MaxInt32},
	{name: "tls-session-cache-timeout", def: "300", kind: kindInt, min: 0, max: math.MaxInt32},
}

// slogLevel maps Redis's log levels onto slog's.
func slogLevel(v string) slog.Level {
	switch v {
	case "debug", "verbose":
		return slog.LevelDebug
	case "warning":
		return slog.LevelWarn
	case "nothing":
		return slog.LevelError + 4
	}
	return slog.LevelInfo
}

// bindAddrs turns bind's value into listen addresses. Redis's default "* -::*" (every IPv4 and,
// if available, IPv6 address) becomes the wildcard.
func bindAddrs(v string) []string {
	var out []string
	for _, a := range strings.Fields(v) {
		a = strings.TrimPrefix(a, "-") // "-" marks an optional address in Redis
		switch a {
		case "*":
			a = "0.0.0.0"
		case "::*":
			continue // covered by the IPv4 wildcard listener's dual-stack socket
		}
		out = append(out, a)
	}
	if len(out) == 0 {
		out = []string{"0.0.0.0"}
	}
	return out
}
