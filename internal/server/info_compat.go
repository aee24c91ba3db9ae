package server

import (
	"strings"
	"sync/atomic"
	"time"
)

// INFO fields redis-server 7 reports that clients and tools read, with cairn's true values.

// saveStats is what SAVE and BGSAVE (a checkpoint of every shard) leave for INFO persistence.
type saveStats struct {
	// savedApplied is the log entries applied when the last save began (or at start).
	savedApplied atomic.Uint64
	count        atomic.Int64
	// lastSec is how long the last save took, in seconds; -1 before the first.
	lastSec atomic.Int64
	failed  atomic.Bool
	started atomic.Bool
}

// done records a save that began at start with applied entries applied; a failed save leaves
// the changes counted.
func (st *saveStats) done(start time.Time, applied uint64, err error) {
	st.started.Store(true)
	st.lastSec.Store(int64(time.Since(start).Seconds()))
	st.failed.Store(err != nil)
	if err == nil {
		st.count.Add(1)
		st.savedApplied.Store(applied)
	}
}

// status is rdb_last_bgsave_status.
func (st *saveStats) status() string {
	if st.failed.Load() {
		return "err"
	}
	return "ok"
}

// infoPersistenceCompat adds Redis's persistence fields. Cairn never forks, rewrites an AOF or
// loads an RDB file: those report what Redis reports when none happened. A change is a log
// entry applied since the last SAVE, BGSAVE or start.
func (s *Server) infoPersistenceCompat(b *strings.Builder) {
	last := int64(-1)
	if s.saves.started.Load() {
		last = s.saves.lastSec.Load()
	}
	kv(b, "current_cow_size", 0)
	kv(b, "current_cow_size_age", 0)
	kv(b, "current_fork_perc", "0.00")
	kv(b, "current_save_keys_processed", 0)
	kv(b, "current_save_keys_total", 0)
	kv(b, "rdb_last_bgsave_time_sec", last)
	kv(b, "rdb_current_bgsave_time_sec", -1)
	kv(b, "rdb_saves", s.saves.count.Load())
	kv(b, "rdb_last_cow_size", 0)
	kv(b, "rdb_last_load_keys_expired", 0)
	kv(b, "rdb_last_load_keys_loaded", 0)
	kv(b, "aof_last_rewrite_time_sec", -1)
	kv(b, "aof_current_rewrite_time_sec", -1)
	kv(b, "aof_last_bgrewrite_status", "ok")
	kv(b, "aof_rewrites", 0)
	kv(b, "aof_rewrites_consecutive_failures", 0)
	kv(b, "aof_last_cow_size", 0)
	kv(b, "module_fork_in_progress", 0)
	kv(b, "module_fork_last_cow_size", 0)
}

// infoMemoryCompat adds Redis's memory fields for scripts and functions: the script cache
// and the function libraries are counted (their code's bytes); the Lua VMs' own heaps are not
// measured (gopher-lua allocates on Go's heap, counted in used_memory), so the vm fields are 0.
func (s *Server) infoMemoryCompat(b *strings.Builder, used int64) {
	c := s.scripts()
	c.mu.Lock()
	cached, scriptBytes := len(c.bodies), 0
	for _, body := range c.bodies {
		scriptBytes += len(body)
	}
	c.mu.Unlock()
	funcs, libs, funcBytes := 0, 0, 0
	if l, err := s.readFunctions(s.functionShard()); err == nil {
		libs, funcs = len(l.Libs), len(l.Funcs)
		for _, lib := range l.Libs {
			funcBytes += len(lib.Code)
		}
	}
	kv(b, "used_memory_lua", 0)
	kv(b, "used_memory_vm_eval", 0)
	kv(b, "used_memory_lua_human", human(0))
	kv(b, "used_memory_scripts_eval", scriptBytes)
	kv(b, "number_of_cached_scripts", cached)
	kv(b, "number_of_functions", funcs)
	kv(b, "number_of_libraries", libs)
	kv(b, "used_memory_vm_functions", 0)
	kv(b, "used_memory_vm_total", 0)
	kv(b, "used_memory_vm_total_human", human(0))
	kv(b, "used_memory_functions", funcBytes)
	kv(b, "used_memory_scripts", scriptBytes+funcBytes)
	kv(b, "used_memory_scripts_human", human(int64(scriptBytes+funcBytes)))
	kv(b, "total_system_memory_human", human(totalSystemMemory()))
}
