package server

import (
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/cairn-db/cairn/internal/command"
	"github.com/cairn-db/cairn/internal/keyspace"
	"github.com/cairn-db/cairn/internal/resp"
)

// MEMORY STATS, DOCTOR, MALLOC-STATS, PURGE and HELP (MEMORY USAGE is a read of the key,
// internal/command/memory.go), and LOLWUT.
//
// cairn keeps its data on disk behind caches, so its memory is the Go heap: the engine's
// memtables and block cache, the record cache, connection buffers. MEMORY STATS reports that
// under Redis's field names (Redis's per-database hash-table overheads are 0: cairn has none),
// followed by cairn's own engine.* fields.

func init() {
	registerLocal("memory", cmdMemory)
	registerLocal("lolwut", cmdLolwut)
}

// startupAllocated is the heap in use when the process started, Redis's startup.allocated.
var startupAllocated = func() int64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}()

func cmdMemory(s *Server, cl *Client, args [][]byte) {
	w := &cl.loop.w
	switch strings.ToLower(string(args[1])) {
	case "stats":
		s.memoryStats(w)
	case "doctor":
		w.Verbatim(s.memoryDoctor())
	case "malloc-stats":
		w.Verbatim(mallocStats())
	case "purge":
		debug.FreeOSMemory()
		w.OK()
	case "help":
		writeHelp(w, "MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
			"DOCTOR",
			"    Return memory problems reports.",
			"MALLOC-STATS",
			"    Return internal statistics report from the memory allocator.",
			"PURGE",
			"    Attempt to purge dirty pages for reclamation by the allocator.",
			"STATS",
			"    Return information about the memory usage of the server.",
			"USAGE <key> [SAMPLES <count>]",
			"    Return memory in bytes used by <key> and its value. Nested values are",
			"    sampled up to <count> times (default: 5, 0 means sample all).",
			"HELP",
			"    Prints this help.")
	}
}

// memOverhead is Redis's struct redisMemOverhead, filled from the Go runtime.
type memOverhead struct {
	peak, total, startup, clients, overhead int64
	keys, bytesPerKey, dataset              int64
	datasetPct, peakPct                     float64
	allocated, active, resident, rss        int64
}

func (s *Server) memOverhead() memOverhead {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	m := memOverhead{
		peak:      int64(ms.HeapSys),
		total:     int64(ms.HeapAlloc),
		startup:   startupAllocated,
		allocated: int64(ms.HeapAlloc),
		active:    int64(ms.HeapInuse),
		resident:  int64(ms.Sys - ms.HeapReleased),
		rss:       processRSS(),
		keys:      s.totalKeys(),
	}
	for _, c := range s.snapshotClients() {
		m.clients += c.qbuf.Load() + c.omem.Load()
	}
	m.overhead = m.startup + m.clients
	net := m.total - m.startup
	if m.keys > 0 {
		m.bytesPerKey = net / m.keys
	}
	m.dataset = max(m.total-m.overhead, 0)
	if net > 0 {
		m.datasetPct = float64(m.dataset) * 100 / float64(net)
	}
	if m.peak > 0 {
		m.peakPct = float64(m.total) * 100 / float64(m.peak)
	}
	return m
}

// processRSS reads the process's resident set size from /proc.
func processRSS() int64 {
	data, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	fields := strings.Fields(string(data))
	if len(fields) < 2 {
		return 0
	}
	pages, _ := strconv.ParseInt(fields[1], 10, 64)
	return pages * int64(os.Getpagesize())
}

// ratio is a Redis float field: computed in float and widened, as Redis's (double)float.
func ratio(a, b int64) float64 {
	if b == 0 {
		return 0
	}
	return float64(float32(float64(a) / float64(b)))
}

func (s *Server) memoryStats(w *resp.Writer) {
	m := s.memOverhead()
	em := s.engineMetrics()
	type field struct {
		name string
		v    any
	}
	fields := []field{
		{"peak.allocated", m.peak}, {"total.allocated", m.total}, {"startup.allocated", m.startup},
		{"replication.backlog", int64(0)}, {"clients.slaves", int64(0)}, {"clients.normal", m.clients},
		{"cluster.links", int64(0)}, {"aof.buffer", int64(0)}, {"lua.caches", int64(0)},
		{"functions.caches", int64(0)},
	}
	keys, _ := s.keyCounts()
	for db := 0; db < keyspace.NumDBs; db++ {
		if keys[db] > 0 {
			fields = append(fields, field{"db." + strconv.Itoa(db), nil})
		}
	}
	fields = append(fields,
		field{"overhead.total", m.overhead}, field{"keys.count", m.keys},
		field{"keys.bytes-per-key", m.bytesPerKey}, field{"dataset.bytes", m.dataset},
		field{"dataset.percentage", float64(float32(m.datasetPct))}, field{"peak.percentage", float64(float32(m.peakPct))},
		field{"allocator.allocated", m.allocated}, field{"allocator.active", m.active},
		field{"allocator.resident", m.resident},
		field{"allocator-fragmentation.ratio", ratio(m.active, m.allocated)},
		field{"allocator-fragmentation.bytes", m.active - m.allocated},
		field{"allocator-rss.ratio", ratio(m.resident, m.active)},
		field{"allocator-rss.bytes", m.resident - m.active},
		field{"rss-overhead.ratio", ratio(m.rss, m.resident)},
		field{"rss-overhead.bytes", m.rss - m.resident},
		field{"fragmentation", ratio(m.rss, m.total)},
		field{"fragmentation.bytes", m.rss - m.total},
		field{"engine.memtable.bytes", int64(em.MemTableBytes)},
		field{"engine.block-cache.bytes", int64(em.CacheBytes)},
		field{"engine.disk.bytes", int64(em.DiskBytes)},
	)
	w.Map(len(fields))
	for _, f := range fields {
		w.BulkString(f.name)
		switch v := f.v.(type) {
		case int64:
			w.Int(v)
		case float64:
			w.Double(v)
		default:
			w.Map(2)
			w.BulkString("overhead.hashtable.main")
			w.Int(0)
			w.BulkString("overhead.hashtable.expires")
			w.Int(0)
		}
	}
}

// memoryDoctor is Redis's memory doctor over the Go heap: too little in use to judge, a peak
// over 150% of what is in use now, or high fragmentation of the heap.
func (s *Server) memoryDoctor() string {
	m := s.memOverhead()
	if m.total < 1024*1024*5 {
		return "Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be back to our programming as soon as I finished rebooting.\n"
	}
	bigPeak := float64(m.peak)/float64(m.total) > 1.5
	highFrag := ratio(m.active, m.allocated) > 1.1 && m.active-m.allocated > 10<<20
	if !bigPeak && !highFrag {
		return "Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.\n"
	}
	var b strings.Builder
	b.WriteString("Sam, I detected a few issues in this Redis instance memory implants:\n\n")
	if bigPeak {
		b.WriteString(" * Peak memory: In the past this instance used more than 150% the memory that is currently using. The allocator is normally not able to release memory after a peak, so you can expect to see a big fragmentation ratio, however this is actually harmless and is only due to the memory peak, and if the Redis instance Resident Set Size (RSS) is currently bigger than expected, the memory will be used as soon as you fill the Redis instance with more data. If the memory peak was only occasional and you want to try to reclaim memory, please try the MEMORY PURGE command, otherwise the only other option is to shutdown and restart the instance.\n\n")
	}
	if highFrag {
		b.WriteString(" * High allocator fragmentation: This instance has an allocator external fragmentation greater than 1.1. This problem is usually due either to a large peak memory (check if there is a peak memory entry above in the report) or may result from a workload that causes the allocator to fragment memory a lot. You can try enabling 'activedefrag' config option.\n\n")
	}
	b.WriteString("I'm here to keep you safe, Sam. I want to help you.\n")
	return b.String()
}

// mallocStats reports the Go runtime's memory statistics where Redis reports jemalloc's.
func mallocStats() string {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	var b strings.Builder
	b.WriteString("___ Begin Go runtime memory statistics ___\n")
	for _, f := range []struct {
		name string
		v    uint64
	}{
		{"Sys", ms.Sys}, {"HeapAlloc", ms.HeapAlloc}, {"HeapSys", ms.HeapSys}, {"HeapIdle", ms.HeapIdle},
		{"HeapInuse", ms.HeapInuse}, {"HeapReleased", ms.HeapReleased}, {"HeapObjects", ms.HeapObjects},
		{"StackInuse", ms.StackInuse}, {"StackSys", ms.StackSys}, {"MSpanInuse", ms.MSpanInuse},
		{"MCacheInuse", ms.MCacheInuse}, {"GCSys", ms.GCSys}, {"OtherSys", ms.OtherSys},
		{"NextGC", ms.NextGC}, {"NumGC", uint64(ms.NumGC)}, {"TotalAlloc", ms.TotalAlloc},
		{"Mallocs", ms.Mallocs}, {"Frees", ms.Frees}, {"PauseTotalNs", ms.PauseTotalNs},
	} {
		b.WriteString(f.name + ": " + strconv.FormatUint(f.v, 10) + "\n")
	}
	b.WriteString("--- End Go runtime memory statistics ---\n")
	return b.String()
}

// cmdLolwut answers with Redis's version line; cairn draws none of Redis's art.
func cmdLolwut(s *Server, cl *Client, args [][]byte) {
	w := &cl.loop.w
	if len(args) >= 3 && strings.EqualFold(string(args[1]), "version") {
		if _, ok := command.ParseInt(args[2]); !ok {
			w.Error(command.ErrNotInt)
			return
		}
	}
	w.Verbatim("Redis ver. " + Version + "\n")
}
