package tests

import (
	"fmt"
	"math"
	"math/bits"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/cairn-db/cairn/internal/servertest"
)

// infoSections returns the section titles of an INFO reply and its fields.
func parseInfo(t *testing.T, raw string) (sections []string, fields map[string]string) {
	t.Helper()
	fields = map[string]string{}
	body := raw[strings.Index(raw, "\r\n")+2:]
	for _, line := range strings.Split(body, "\r\n") {
		switch {
		case strings.HasPrefix(line, "# "):
			sections = append(sections, line[2:])
		case strings.Contains(line, ":"):
			k, v, _ := strings.Cut(line, ":")
			fields[k] = v
		}
	}
	return sections, fields
}

func TestInfoSections(t *testing.T) {
	srv := servertest.Start(t)
	c := srv.Dial()
	dflt := []string{"Server", "Clients", "Memory", "Persistence", "Stats", "Replication", "CPU", "Modules", "Errorstats", "Cluster", "Keyspace"}
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"INFO"}, dflt},
		{[]string{"INFO", "default"}, dflt},
		{[]string{"INFO", "all"}, append(append([]string{}, dflt...), "Commandstats", "Latencystats")},
		{[]string{"INFO", "everything"}, append(append([]string{}, dflt...), "Commandstats", "Latencystats")},
		{[]string{"INFO", "latencystats"}, []string{"Latencystats"}},
		{[]string{"INFO", "server"}, []string{"Server"}},
		{[]string{"INFO", "CLIENTS", "keyspace", "commandstats"}, []string{"Clients", "Keyspace", "Commandstats"}},
		{[]string{"INFO", "nosuch"}, nil},
	}
	for _, tc := range tests {
		got, _ := parseInfo(t, c.Do(tc.args...))
		if strings.Join(got, ",") != strings.Join(tc.want, ",") {
			t.Errorf("%v sections = %v, want %v", tc.args, got, tc.want)
		}
	}
	c.Do("SET", "a", "1")
	c.Do("SET", "b", "2", "EX", "100")
	_, f := parseInfo(t, c.Do("INFO"))
	for _, k := range []string{"redis_version", "redis_mode", "os", "process_id", "tcp_port", "uptime_in_seconds", "run_id",
		"connected_clients", "maxclients", "blocked_clients", "used_memory", "used_memory_human", "maxmemory",
		"aof_enabled", "rdb_last_save_time", "total_connections_received", "total_commands_processed",
		"instantaneous_ops_per_sec", "keyspace_hits", "keyspace_misses", "total_error_replies", "role",
		"master_repl_offset", "used_cpu_sys", "cluster_enabled"} {
		if _, ok := f[k]; !ok {
			t.Errorf("INFO lacks %s", k)
		}
	}
	if f["role"] != "master" || f["aof_enabled"] != "1" || f["redis_mode"] != "standalone" {
		t.Errorf("role/aof_enabled/redis_mode = %s/%s/%s", f["role"], f["aof_enabled"], f["redis_mode"])
	}
	if !regexp.MustCompile(`^8\.\d+\.\d+$`).MatchString(f["redis_version"]) {
		t.Errorf("redis_version = %q", f["redis_version"])
	}
	if f["db0"] != "keys=2,expires=1,avg_ttl=0,subexpiry=0" {
		t.Errorf("db0 = %q", f["db0"])
	}
	if f["connected_clients"] != "1" {
		t.Errorf("connected_clients = %q", f["connected_clients"])
	}
	// RESP3: a verbatim string.
	c.Do("HELLO", "3")
	if got := c.Do("INFO", "server"); !strings.HasPrefix(got, "=") || !strings.Contains(got, "txt:# Server\r\n") {
		t.Errorf("RESP3 INFO = %q", got[:min(len(got), 40)])
	}
}

func TestInfoCounters(t *testing.T) {
	srv := servertest.Start(t)
	c := srv.Dial()
	c.Do("SET", "k", "v")
	c.Do("GET", "k")
	c.Do("GET", "k")
	c.Do("GET", "missing")
	c.Do("GET")           // rejected: arity
	c.Do("INCR", "k")     // failed: not an integer
	c.Do("NOSUCHCOMMAND") // unknown: an error, no command stat
	c.Do("CONFIG", "GET", "hz")
	c.Do("MULTI")
	c.Do("INCR", "n")
	c.Do("INCR", "k")
	c.Do("EXEC")
	_, f := parseInfo(t, c.Do("INFO", "all"))
	stat := regexp.MustCompile(`^calls=(\d+),usec=\d+,usec_per_call=\d+\.\d\d,rejected_calls=(\d+),failed_calls=(\d+)$`)
	want := map[string][3]string{
		"cmdstat_get":        {"3", "1", "0"},
		"cmdstat_set":        {"1", "0", "0"},
		"cmdstat_incr":       {"3", "0", "2"},
		"cmdstat_config|get": {"1", "0", "0"},
		"cmdstat_exec":       {"1", "0", "0"},
	}
	for k, w := range want {
		m := stat.FindStringSubmatch(f[k])
		if m == nil || m[1] != w[0] || m[2] != w[1] || m[3] != w[2] {
			t.Errorf("%s = %q, want calls=%s rejected=%s failed=%s", k, f[k], w[0], w[1], w[2])
		}
	}
	if f["keyspace_hits"] != "2" || f["keyspace_misses"] != "1" {
		t.Errorf("hits/misses = %s/%s, want 2/1", f["keyspace_hits"], f["keyspace_misses"])
	}
	if f["total_error_replies"] != "4" {
		t.Errorf("total_error_replies = %s, want 4", f["total_error_replies"])
	}
	if f["errorstat_ERR"] != "count=4" {
		t.Errorf("errorstat_ERR = %q, want count=4", f["errorstat_ERR"])
	}
	c.Do("LPUSH", "k", "x")
	c.Do("CONFIG", "RESETSTAT")
	_, f = parseInfo(t, c.Do("INFO", "all"))
	if f["total_error_replies"] != "0" || f["keyspace_hits"] != "0" || f["cmdstat_get"] != "" {
		t.Errorf("after RESETSTAT: errors=%s hits=%s get=%q", f["total_error_replies"], f["keyspace_hits"], f["cmdstat_get"])
	}
}

// hdrBounds returns the lowest and highest value of the HDR counter (1 ns..1 s, two digits)
// holding ns, as Redis's hdr_histogram computes them.
func hdrBounds(ns int64) (lo, hi int64) {
	b := bits.Len64(uint64(ns)|255) - 8
	lo = ns >> b << b
	return lo, lo + 1<<b - 1
}

// TestInfoLatencystats checks INFO latencystats as redis-server 7.0 writes it: a line per
// command that ran, its latencies at latency-tracking-info-percentiles in µs with three
// decimals, each the top of an HDR counter (the bottom for p0), in percentile order.
func TestInfoLatencystats(t *testing.T) {
	srv := servertest.Start(t)
	c := srv.Dial()
	c.Do("CONFIG", "RESETSTAT")
	for i := 0; i < 20; i++ {
		c.Do("SET", "k", "v")
		c.Do("GET", "k")
	}
	_, f := parseInfo(t, c.Do("INFO", "latencystats"))
	def := regexp.MustCompile(`^p50=\d+\.\d{3},p99=\d+\.\d{3},p99\.9=\d+\.\d{3}$`)
	for _, k := range []string{"latency_percentiles_usec_get", "latency_percentiles_usec_set", "latency_percentiles_usec_config|resetstat"} {
		if !def.MatchString(f[k]) {
			t.Errorf("%s = %q, want p50, p99 and p99.9", k, f[k])
		}
	}

	c.Do("CONFIG", "SET", "latency-tracking-info-percentiles", "0 0.1 50 99.99 100")
	_, f = parseInfo(t, c.Do("INFO", "latencystats"))
	var names []string
	for k := range f {
		names = append(names, k)
	}
	sort.Strings(names)
	want := "latency_percentiles_usec_config|resetstat,latency_percentiles_usec_config|set,latency_percentiles_usec_get,latency_percentiles_usec_info,latency_percentiles_usec_set"
	if strings.Join(names, ",") != want {
		t.Fatalf("INFO latencystats fields = %v, want %s", names, want)
	}
	line := regexp.MustCompile(`^p0=(\d+\.\d{3}),p0\.1=(\d+\.\d{3}),p50=(\d+\.\d{3}),p99\.99=(\d+\.\d{3}),p100=(\d+\.\d{3})$`)
	for _, k := range names {
		m := line.FindStringSubmatch(f[k])
		if m == nil {
			t.Fatalf("%s = %q", k, f[k])
		}
		var prev int64
		for i, s := range m[1:] {
			v, _ := strconv.ParseFloat(s, 64)
			ns := int64(math.Round(v * 1000))
			lo, hi := hdrBounds(ns)
			if i == 0 && ns != lo || i > 0 && ns != hi || ns < prev {
				t.Fatalf("%s = %q: %s is not the %s of an HDR counter or is out of order", k, f[k], s, map[bool]string{true: "bottom", false: "top"}[i == 0])
			}
			prev = ns
		}
		// One call: every percentile is in its counter, p0 at the bottom (HdrHistogram_c
		// counts at least one call), the rest at the top.
		if k == "latency_percentiles_usec_config|set" {
			p0, _ := strconv.ParseFloat(m[1], 64)
			_, hi := hdrBounds(int64(math.Round(p0 * 1000)))
			top := fmt.Sprintf("%.3f", float64(hi)/1000)
			if m[2] != top || m[3] != top || m[4] != top || m[5] != top {
				t.Fatalf("%s = %q, want every percentile but p0 at %s", k, f[k], top)
			}
		}
	}

	c.Do("CONFIG", "SET", "latency-tracking-info-percentiles", "")
	if _, f = parseInfo(t, c.Do("INFO", "latencystats")); f["latency_percentiles_usec_get"] != "" {
		t.Fatalf("with no percentiles get = %q, want empty", f["latency_percentiles_usec_get"])
	}
	if raw := c.Do("INFO", "latencystats"); !strings.Contains(raw, "\r\nlatency_percentiles_usec_get:\r\n") {
		t.Fatalf("with no percentiles INFO latencystats = %q", raw)
	}
	c.Do("CONFIG", "RESETSTAT")
	if _, f = parseInfo(t, c.Do("INFO", "latencystats")); len(f) != 1 || f["latency_percentiles_usec_config|resetstat"] != "" {
		t.Fatalf("after RESETSTAT INFO latencystats = %v, want only config|resetstat", f)
	}
}
