package server

import (
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cairn-db/cairn/internal/command"
	"github.com/cairn-db/cairn/internal/resp"
)

// The latency monitor (LATENCY LATEST, HISTORY, GRAPH, DOCTOR, RESET) and the per-command
// latency histograms (LATENCY HISTOGRAM), as Redis's latency.c. The monitor keeps, per event,
// the last 160 seconds that had a spike of at least latency-monitor-threshold ms (0 turns it
// off); the only events cairn records are "command" and "fast-command" (commands flagged fast),
// timed as the slow log times them (slowlog.go).

func init() {
	registerLocal("latency", cmdLatency)
}

// latencyTSLen is how many samples an event keeps, one per second at most.
const latencyTSLen = 160

type latencySample struct{ time, latency int64 }

type latencySeries struct {
	idx     int
	max     int64
	samples [latencyTSLen]latencySample
}

type latencyMonitor struct {
	mu     sync.Mutex
	events map[string]*latencySeries
}

// add records a spike of ms milliseconds at Unix second now: a spike in the same second as the
// previous one only raises it.
func (m *latencyMonitor) add(event string, ms, now int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.events == nil {
		m.events = map[string]*latencySeries{}
	}
	ts := m.events[event]
	if ts == nil {
		ts = &latencySeries{}
		m.events[event] = ts
	}
	ts.max = max(ts.max, ms)
	prev := (ts.idx + latencyTSLen - 1) % latencyTSLen
	if ts.samples[prev].time == now {
		ts.samples[prev].latency = max(ts.samples[prev].latency, ms)
		return
	}
	ts.samples[ts.idx] = latencySample{now, ms}
	ts.idx = (ts.idx + 1) % latencyTSLen
}

// names returns the events with samples, sorted (Redis lists them in hash order).
func (m *latencyMonitor) names() []string {
	out := make([]string, 0, len(m.events))
	for name := range m.events {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// ordered returns ts's samples oldest first.
func (ts *latencySeries) ordered() []latencySample {
	var out []latencySample
	for j := 0; j < latencyTSLen; j++ {
		if s := ts.samples[(ts.idx+j)%latencyTSLen]; s.time != 0 {
			out = append(out, s)
		}
	}
	return out
}

func cmdLatency(s *Server, cl *Client, args [][]byte) {
	w := &cl.loop.w
	m := &s.latency
	m.mu.Lock()
	defer m.mu.Unlock()
	switch strings.ToLower(string(args[1])) {
	case "latest":
		names := m.names()
		w.Array(len(names))
		for _, name := range names {
			ts := m.events[name]
			last := ts.samples[(ts.idx+latencyTSLen-1)%latencyTSLen]
			w.Array(4)
			w.BulkString(name)
			w.Int(last.time)
			w.Int(last.latency)
			w.Int(ts.max)
		}
	case "history":
		var samples []latencySample
		if ts := m.events[string(args[2])]; ts != nil {
			samples = ts.ordered()
		}
		w.Array(len(samples))
		for _, smp := range samples {
			w.Array(2)
			w.Int(smp.time)
			w.Int(smp.latency)
		}
	case "graph":
		ts := m.events[string(args[2])]
		if ts == nil {
			w.Error("ERR No samples available for event '" + string(args[2]) + "'")
			return
		}
		w.Verbatim(latencyGraph(string(args[2]), ts, time.Now().Unix()))
	case "doctor":
		w.Verbatim(s.latencyReport())
	case "reset":
		resets := 0
		for _, name := range m.names() {
			if len(args) == 2 || containsFold(args[2:], name) {
				delete(m.events, name)
				resets++
			}
		}
		w.Int(int64(resets))
	case "histogram":
		s.latencyHistogram(w, args[2:])
	case "help":
		writeHelp(w, "LATENCY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
			"DOCTOR",
			"    Return a human readable latency analysis report.",
			"GRAPH <event>",
			"    Return an ASCII latency graph for the <event> class.",
			"HISTORY <event>",
			"    Return time-latency samples for the <event> class.",
			"LATEST",
			"    Return the latest latency samples for all events.",
			"RESET [<event> ...]",
			"    Reset latency data of one or more <event> classes.",
			"    (default: reset all data for all event classes)",
			"HISTOGRAM [COMMAND ...]",
			"    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.",
			"    If no commands are specified then all histograms are replied.",
			"HELP",
			"    Prints this help.")
	}
}

func containsFold(list [][]byte, s string) bool {
	for _, a := range list {
		if strings.EqualFold(string(a), s) {
			return true
		}
	}
	return false
}

// latencyGraph draws an event's samples as Redis's LATENCY GRAPH does.
func latencyGraph(event string, ts *latencySeries, now int64) string {
	var seq sparkSequence
	var lo, hi int64
	for i, smp := range ts.ordered() {
		if i == 0 {
			lo, hi = smp.latency, smp.latency
		}
		lo, hi = min(lo, smp.latency), max(hi, smp.latency)
		elapsed := now - smp.time
		var label string
		switch {
		case elapsed < 60:
			label = strconv.FormatInt(elapsed, 10) + "s"
		case elapsed < 3600:
			label = strconv.FormatInt(elapsed/60, 10) + "m"
		case elapsed < 3600*24:
			label = strconv.FormatInt(elapsed/3600, 10) + "h"
		default:
			label = strconv.FormatInt(elapsed/(3600*24), 10) + "d"
		}
		seq.add(float64(smp.latency), label)
	}
	var b strings.Builder
	b.WriteString(event + " - high " + strconv.FormatInt(hi, 10) + " ms, low " + strconv.FormatInt(lo, 10) +
		" ms (all time high " + strconv.FormatInt(ts.max, 10) + " ms)\n")
	b.WriteString(strings.Repeat("-", latencyGraphCols) + "\n")
	seq.render(&b, latencyGraphCols, 4, true)
	return b.String()
}

const latencyGraphCols = 80

// latencyStats summarises an event's samples for the doctor.
type latencyStats struct {
	allTimeHigh, avg, min, max, mad int64
	samples                         int
	period                          int64
}

func analyzeLatency(ts *latencySeries, now int64) latencyStats {
	ls := latencyStats{allTimeHigh: ts.max}
	var sum int64
	for _, smp := range ts.samples {
		if smp.time == 0 {
			continue
		}
		ls.samples++
		if ls.samples == 1 {
			ls.min, ls.max = smp.latency, smp.latency
		} else {
			ls.min, ls.max = min(ls.min, smp.latency), max(ls.max, smp.latency)
		}
		sum += smp.latency
		if ls.period == 0 || smp.time < ls.period {
			ls.period = smp.time
		}
	}
	if ls.samples > 0 {
		ls.avg = sum / int64(ls.samples)
		ls.period = max(now-ls.period, 1)
	}
	sum = 0
	for _, smp := range ts.samples {
		if smp.time != 0 {
			sum += abs64(ls.avg - smp.latency)
		}
	}
	if ls.samples > 0 {
		ls.mad = sum / int64(ls.samples)
	}
	return ls
}

func abs64(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

// latencyReport is LATENCY DOCTOR's report, in Redis's words, for the events cairn records.
func (s *Server) latencyReport() string {
	m := &s.latency
	threshold := s.cfg.live.latencyThreshold.Load()
	if len(m.events) == 0 && threshold == 0 {
		return "I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. You may use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in order to enable it. If we weren't in a deep space mission I'd suggest to take a look at https://redis.io/topics/latency-monitor.\n"
	}
	var b strings.Builder
	var slowlogEnable, slowlogTune, slowlogInspect, scheduler, largeObjects, thp bool
	advices := 0
	now := time.Now().Unix()
	for i, name := range m.names() {
		ts := m.events[name]
		if i == 0 {
			b.WriteString("Dave, I have observed latency spikes in this Redis instance. You don't mind talking about it, do you Dave?\n\n")
		}
		ls := analyzeLatency(ts, now)
		b.WriteString(strconv.Itoa(i+1) + ". " + name + ": " + strconv.Itoa(ls.samples) + " latency spikes (average " +
			strconv.FormatInt(ls.avg, 10) + "ms, mean deviation " + strconv.FormatInt(ls.mad, 10) + "ms, period " +
			strconv.FormatFloat(float64(ls.period)/float64(ls.samples), 'f', 2, 64) + " sec). Worst all time event " +
			strconv.FormatInt(ts.max, 10) + "ms.")
		switch name {
		case "command":
			if s.cfg.live.slowlogSlower.Load() < 0 || s.cfg.live.slowlogMaxLen.Load() == 0 {
				slowlogEnable = true
				advices++
			} else if s.cfg.live.slowlogSlower.Load()/1000 > threshold {
				slowlogTune = true
				advices++
			}
			slowlogInspect, largeObjects = true, true
			advices += 2
		case "fast-command":
			scheduler = true
			advices++
		}
		b.WriteString("\n")
	}
	if anonHugePages() > 0 {
		thp = true
		advices++
	}
	switch {
	case len(m.events) == 0 && advices == 0:
		b.WriteString("Dave, no latency spike was observed during the lifetime of this Redis instance, not in the slightest bit. I honestly think you ought to sit down calmly, take a stress pill, and think things over.\n")
	case len(m.events) > 0 && advices == 0:
		b.WriteString("\nWhile there are latency events logged, I'm not able to suggest any easy fix. Please use the Redis community to get some help, providing this report in your help request.\n")
	default:
		b.WriteString("\nI have a few advices for you:\n\n")
		us := strconv.FormatInt(threshold*1000, 10)
		if slowlogEnable {
			b.WriteString("- There are latency issues with potentially slow commands you are using. Try to enable the Slow Log Redis feature using the command 'CONFIG SET slowlog-log-slower-than " + us + "'. If the Slow log is disabled Redis is not able to log slow commands execution for you.\n")
		}
		if slowlogTune {
			b.WriteString("- Your current Slow Log configuration only logs events that are slower than your configured latency monitor threshold. Please use 'CONFIG SET slowlog-log-slower-than " + us + "'.\n")
		}
		if slowlogInspect {
			b.WriteString("- Check your Slow Log to understand what are the commands you are running which are too slow to execute. Please check https://redis.io/commands/slowlog for more information.\n")
		}
		if scheduler {
			b.WriteString("- The system is slow to execute Redis code paths not containing system calls. This usually means the system does not provide Redis CPU time to run for long periods. You should try to:\n" +
				"  1) Lower the system load.\n" +
				"  2) Use a computer / VM just for Redis if you are running other software in the same system.\n" +
				"  3) Check if you have a \"noisy neighbour\" problem.\n" +
				"  4) Check with 'redis-cli --intrinsic-latency 100' what is the intrinsic latency in your system.\n" +
				"  5) Check if the problem is allocator-related by recompiling Redis with MALLOC=libc, if you are using Jemalloc. However this may create fragmentation problems.\n")
		}
		if largeObjects {
			b.WriteString("- Deleting, expiring or evicting (because of maxmemory policy) large objects is a blocking operation. If you have very large objects that are often deleted, expired, or evicted, try to fragment those objects into multiple smaller objects.\n")
		}
		if thp {
			b.WriteString("- I detected a non zero amount of anonymous huge pages used by your process. This creates very serious latency events in different conditions, especially when Redis is persisting on disk. To disable THP support use the command 'echo never > /sys/kernel/mm/transparent_hugepage/enabled', make sure to also add it into /etc/rc.local so that the command will be executed again after a reboot. Note that even if you have already disabled THP, you still need to restart the Redis process to get rid of the huge pages already created.\n")
		}
	}
	return b.String()
}

// anonHugePages is the process's AnonHugePages in bytes (transparent huge pages in use).
func anonHugePages() int64 {
	data, err := os.ReadFile("/proc/self/smaps_rollup")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "AnonHugePages:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb * 1024
		}
	}
	return 0
}

// latencyHistogram writes LATENCY HISTOGRAM's map: for the named commands (and their
// subcommands), or all commands with no names, those that have run.
func (s *Server) latencyHistogram(w *resp.Writer, names [][]byte) {
	var cmds []*command.Command
	if len(names) == 0 {
		for _, c := range command.All() {
			cmds = append(cmds, c)
			cmds = append(cmds, sortedSubs(c)...)
		}
	} else {
		for _, n := range names {
			c := lookupFullName([]byte(strings.ToLower(string(n))))
			if c == nil {
				continue
			}
			cmds = append(cmds, c)
			cmds = append(cmds, sortedSubs(c)...)
		}
	}
	type row struct {
		name       string
		total      int64
		keys, cums []int64
	}
	var rows []row
	for _, c := range cmds {
		st := s.cmdStats[c]
		if st == nil {
			continue
		}
		if snap := st.hist.snapshot(); snap != nil {
			keys, cums := snap.cdf()
			rows = append(rows, row{c.Name, snap.total, keys, cums})
		}
	}
	w.Map(len(rows))
	for _, r := range rows {
		w.BulkString(r.name)
		w.Map(2)
		w.BulkString("calls")
		w.Int(r.total)
		w.BulkString("histogram_usec")
		w.Map(len(r.keys))
		for i := range r.keys {
			w.Int(r.keys[i])
			w.Int(r.cums[i])
		}
	}
}

func sortedSubs(c *command.Command) []*command.Command {
	out := make([]*command.Command, 0, len(c.Subcommands))
	for _, sc := range c.Subcommands {
		out = append(out, sc)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
