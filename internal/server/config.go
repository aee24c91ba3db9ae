package server

import (
	"bufio"
	"errors"
	"fmt"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/cairn-db/cairn/internal/glob"
)

// Config holds the server's options under their redis.conf names. Typed fields are what the
// server reads; every parameter also has its textual value for CONFIG GET and REWRITE.
type Config struct {
	Bind                   []string
	Port                   int
	Dir                    string
	AppendFsync            string
	RequirePass            string
	MaxClients             int
	Timeout                int // seconds idle before a client is closed; 0 never
	TCPKeepAlive           int
	ProtoMaxBulkLen        int64
	ClientQueryBufferLimit int64
	CacheSize              int64
	RecordCacheSize        int64
	LogLevel               string
	LogFile                string
	Hz                     int

	// File is the config file the server was started with, for CONFIG REWRITE.
	File string

	mu     sync.Mutex
	values map[string]string
}

type paramKind int

const (
	kindString paramKind = iota
	kindInt
	kindMemory
	kindBool
	kindEnum
	kindList // space-separated, like bind and save
)

// param is one configuration parameter.
type param struct {
	name      string
	alias     string
	def       string
	kind      paramKind
	enum      []string
	min, max  int64
	immutable bool // only at startup
	sensitive bool // not shown by CONFIG GET in clear? (Redis shows requirepass; kept as Redis)
	apply     func(c *Config, v string)
}

// params lists every parameter cairn accepts. Many are Redis's tuning knobs for its in-memory
// encodings: they are accepted, validated and reported so tools that set them keep working, but
// cairn's storage does not use them (the README says so).
var params = []*param{
	{name: "bind", def: "127.0.0.1", kind: kindList, immutable: true, apply: func(c *Config, v string) { c.Bind = strings.Fields(v) }},
	{name: "port", def: "6379", kind: kindInt, min: 0, max: 65535, immutable: true, apply: func(c *Config, v string) { c.Port = atoi(v) }},
	{name: "dir", def: "./cairn-data", immutable: true, apply: func(c *Config, v string) { c.Dir = v }},
	{name: "appendfsync", def: "everysec", kind: kindEnum, enum: []string{"always", "everysec", "no"}, apply: func(c *Config, v string) { c.AppendFsync = v }},
	{name: "appendonly", def: "yes", kind: kindBool},
	{name: "requirepass", def: "", apply: func(c *Config, v string) { c.RequirePass = v }},
	{name: "maxclients", def: "10000", kind: kindInt, min: 1, max: math.MaxInt32, apply: func(c *Config, v string) { c.MaxClients = atoi(v) }},
	{name: "timeout", def: "0", kind: kindInt, min: 0, max: math.MaxInt32, apply: func(c *Config, v string) { c.Timeout = atoi(v) }},
	{name: "tcp-keepalive", def: "300", kind: kindInt, min: 0, max: math.MaxInt32, apply: func(c *Config, v string) { c.TCPKeepAlive = atoi(v) }},
	{name: "proto-max-bulk-len", def: "536870912", kind: kindMemory, min: 1 << 20, max: math.MaxInt64, apply: func(c *Config, v string) { c.ProtoMaxBulkLen = memory(v) }},
	{name: "client-query-buffer-limit", def: "1073741824", kind: kindMemory, min: 1 << 20, max: math.MaxInt64, apply: func(c *Config, v string) { c.ClientQueryBufferLimit = memory(v) }},
	{name: "cache-size", def: "268435456", kind: kindMemory, min: 1 << 20, max: math.MaxInt64, immutable: true, apply: func(c *Config, v string) { c.CacheSize = memory(v) }},
	{name: "record-cache-size", def: "268435456", kind: kindMemory, min: 0, max: math.MaxInt64, immutable: true, apply: func(c *Config, v string) { c.RecordCacheSize = memory(v) }},
	{name: "loglevel", def: "notice", kind: kindEnum, enum: []string{"debug", "verbose", "notice", "warning", "nothing"}, apply: func(c *Config, v string) { c.LogLevel = v }},
	{name: "logfile", def: "", immutable: true, apply: func(c *Config, v string) { c.LogFile = v }},
	{name: "hz", def: "10", kind: kindInt, min: 1, max: 500, apply: func(c *Config, v string) { c.Hz = atoi(v) }},
	{name: "databases", def: "16", kind: kindInt, min: 16, max: 16, immutable: true},
	{name: "daemonize", def: "no", kind: kindBool, immutable: true},
	{name: "protected-mode", def: "yes", kind: kindBool},
	{name: "tcp-backlog", def: "511", kind: kindInt, min: 0, max: math.MaxInt32, immutable: true},
	{name: "unixsocket", def: "", immutable: true},
	{name: "pidfile", def: "", immutable: true},
	{name: "save", def: "", kind: kindList},
	{name: "dbfilename", def: "dump.rdb"},
	{name: "appendfilename", def: "appendonly.aof", immutable: true},
	{name: "appenddirname", def: "appendonlydir", immutable: true},
	{name: "maxmemory", def: "0", kind: kindMemory, min: 0, max: math.MaxInt64},
	{name: "maxmemory-policy", def: "noeviction", kind: kindEnum, enum: []string{"volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl", "allkeys-lru", "allkeys-lfu", "allkeys-random", "noeviction"}},
	{name: "maxmemory-samples", def: "5", kind: kindInt, min: 1, max: 64},
	{name: "notify-keyspace-events", def: ""},
	{name: "slowlog-log-slower-than", def: "10000", kind: kindInt, min: -1, max: math.MaxInt64},
	{name: "slowlog-max-len", def: "128", kind: kindInt, min: 0, max: math.MaxInt64},
	{name: "latency-monitor-threshold", def: "0", kind: kindInt, min: 0, max: math.MaxInt64},
	{name: "lua-time-limit", alias: "busy-reply-threshold", def: "5000", kind: kindInt, min: 0, max: math.MaxInt64},
	{name: "lfu-log-factor", def: "10", kind: kindInt, min: 0, max: math.MaxInt32},
	{name: "lfu-decay-time", def: "1", kind: kindInt, min: 0, max: math.MaxInt32},
	{name: "hash-max-listpack-entries", alias: "hash-max-ziplist-entries", def: "128", kind: kindInt, min: 0, max: math.MaxInt64},
	{name: "hash-max-listpack-value", alias: "hash-max-ziplist-value", def: "64", kind: kindInt, min: 0, max: math.MaxInt64},
	{name: "list-max-listpack-size", alias: "list-max-ziplist-size", def: "-2", kind: kindInt, min: math.MinInt32, max: math.MaxInt32},
	{name: "list-compress-depth", def: "0", kind: kindInt, min: 0, max: math.MaxInt32},
	{name: "set-max-intset-entries", def: "512", kind: kindInt, min: 0, max: math.MaxInt64},
	{name: "set-max-listpack-entries", def: "128", kind: kindInt, min: 0, max: math.MaxInt64},
	{name: "set-max-listpack-value", def: "64", kind: kindInt, min: 0, max: math.MaxInt64},
	{name: "zset-max-listpack-entries", alias: "zset-max-ziplist-entries", def: "128", kind: kindInt, min: 0, max: math.MaxInt64},
	{name: "zset-max-listpack-value", alias: "zset-max-ziplist-value", def: "64", kind: kindInt, min: 0, max: math.MaxInt64},
	{name: "hll-sparse-max-bytes", def: "3000", kind: kindMemory, min: 0, max: math.MaxInt64},
	{name: "stream-node-max-bytes", def: "4096", kind: kindMemory, min: 0, max: math.MaxInt64},
	{name: "stream-node-max-entries", def: "100", kind: kindInt, min: 0, max: math.MaxInt64},
	{name: "activerehashing", def: "yes", kind: kindBool},
	{name: "activedefrag", def: "no", kind: kindBool},
	{name: "lazyfree-lazy-eviction", def: "no", kind: kindBool},
	{name: "lazyfree-lazy-expire", def: "no", kind: kindBool},
	{name: "lazyfree-lazy-server-del", def: "no", kind: kindBool},
	{name: "lazyfree-lazy-user-del", def: "no", kind: kindBool},
	{name: "lazyfree-lazy-user-flush", def: "no", kind: kindBool},
	{name: "io-threads", def: "1", kind: kindInt, min: 1, max: 128, immutable: true},
	{name: "client-output-buffer-limit", def: "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60", kind: kindList},
	{name: "replica-read-only", alias: "slave-read-only", def: "yes", kind: kindBool},
	{name: "cluster-enabled", def: "no", kind: kindBool, immutable: true},
	{name: "cluster-node-timeout", def: "15000", kind: kindInt, min: 0, max: math.MaxInt64},
	{name: "cluster-proxy", def: "no", kind: kindBool},
	{name: "aof-use-rdb-preamble", def: "yes", kind: kindBool},
	{name: "rdbcompression", def: "yes", kind: kindBool},
	{name: "rdbchecksum", def: "yes", kind: kindBool},
	{name: "stop-writes-on-bgsave-error", def: "yes", kind: kindBool},
	{name: "enable-debug-command", def: "yes", kind: kindEnum, enum: []string{"yes", "no", "local"}},
	{name: "supervised", def: "no", kind: kindEnum, enum: []string{"upstart", "systemd", "auto", "no"}, immutable: true},
	{name: "close-on-oom", def: "no", kind: kindBool},
	{name: "lua-replicate-commands", def: "yes", kind: kindBool},
	{name: "busy-reply-threshold", def: "5000", kind: kindInt, min: 0, max: math.MaxInt64},
}

var paramByName = func() map[string]*param {
	m := map[string]*param{}
	for _, p := range params {
		m[p.name] = p
		if p.alias != "" {
			m[p.alias] = p
		}
	}
	return m
}()

// NewConfig returns the defaults.
func NewConfig() *Config {
	c := &Config{values: map[string]string{}}
	for _, p := range params {
		c.values[p.name] = p.def
		if p.apply != nil {
			p.apply(c, p.def)
		}
	}
	return c
}

// ErrUnknownParam reports a parameter cairn does not know.
var ErrUnknownParam = errors.New("unknown parameter")

// Set validates and sets a parameter. startup allows immutable parameters.
func (c *Config) Set(name, value string, startup bool) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	p := paramByName[strings.ToLower(name)]
	if p == nil {
		return ErrUnknownParam
	}
	if p.immutable && !startup {
		return fmt.Errorf("can't set immutable config")
	}
	v, err := p.normalize(value)
	if err != nil {
		return err
	}
	c.values[p.name] = v
	if p.apply != nil {
		p.apply(c, v)
	}
	return nil
}

// Get returns a parameter's value.
func (c *Config) Get(name string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	p := paramByName[strings.ToLower(name)]
	if p == nil {
		return "", false
	}
	return c.values[p.name], true
}

// Match returns the name/value pairs whose names (or aliases) match a glob pattern, sorted.
func (c *Config) Match(pattern string) [][2]string {
	c.mu.Lock()
	defer c.mu.Unlock()
	seen := map[string]bool{}
	var out [][2]string
	lp := strings.ToLower(pattern)
	for _, p := range params {
		for _, n := range []string{p.name, p.alias} {
			if n == "" || seen[n] {
				continue
			}
			if glob.MatchString(lp, n, true) {
				seen[n] = true
				out = append(out, [2]string{n, c.values[p.name]})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i][0] < out[j][0] })
	return out
}

// normalize validates a value and returns it in canonical form.
func (p *param) normalize(v string) (string, error) {
	switch p.kind {
	case kindInt:
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return "", fmt.Errorf("argument couldn't be parsed into an integer")
		}
		if n < p.min || n > p.max {
			return "", fmt.Errorf("argument must be between %d and %d inclusive", p.min, p.max)
		}
		return strconv.FormatInt(n, 10), nil
	case kindMemory:
		n, ok := parseMemory(v)
		if !ok {
			return "", fmt.Errorf("argument must be a memory value")
		}
		if n < p.min || n > p.max {
			return "", fmt.Errorf("argument must be between %d and %d inclusive", p.min, p.max)
		}
		return strconv.FormatInt(n, 10), nil
	case kindBool:
		switch strings.ToLower(v) {
		case "yes":
			return "yes", nil
		case "no":
			return "no", nil
		}
		return "", fmt.Errorf("argument must be 'yes' or 'no'")
	case kindEnum:
		lv := strings.ToLower(v)
		for _, e := range p.enum {
			if e == lv {
				return e, nil
			}
		}
		return "", fmt.Errorf("argument(s) must be one of the following: %s", strings.Join(p.enum, ", "))
	case kindList:
		return strings.Join(strings.Fields(v), " "), nil
	}
	return v, nil
}

// parseMemory parses Redis memory values: 100, 1k (1000), 1kb (1024), 1m, 1mb, 1g, 1gb.
func parseMemory(v string) (int64, bool) {
	lv := strings.ToLower(strings.TrimSpace(v))
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"kb", 1 << 10}, {"mb", 1 << 20}, {"gb", 1 << 30}, {"k", 1000}, {"m", 1000 * 1000}, {"g", 1000 * 1000 * 1000}, {"b", 1}} {
		if strings.HasSuffix(lv, u.suffix) {
			lv = strings.TrimSuffix(lv, u.suffix)
			mult = u.mult
			break
		}
	}
	n, err := strconv.ParseInt(lv, 10, 64)
	if err != nil || n < 0 || (mult > 1 && n > math.MaxInt64/mult) {
		return 0, false
	}
	return n * mult, true
}

func memory(v string) int64 {
	n, _ := parseMemory(v)
	return n
}

func atoi(v string) int {
	n, _ := strconv.Atoi(v)
	return n
}

// LoadFile reads a redis.conf-style file: one "name value..." per line, # comments, quoted
// values.
func (c *Config) LoadFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" || text[0] == '#' {
			continue
		}
		fields := splitConfigLine(text)
		if len(fields) == 0 {
			continue
		}
		if err := c.Set(fields[0], strings.Join(fields[1:], " "), true); err != nil {
			return fmt.Errorf("%s:%d: %s: %w", path, line, fields[0], err)
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	c.File = path
	return nil
}

// splitConfigLine splits on spaces, honouring double and single quotes.
func splitConfigLine(s string) []string {
	var out []string
	var cur strings.Builder
	quote := byte(0)
	has := false
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case quote != 0 && ch == quote:
			quote = 0
		case quote != 0:
			if ch == '\\' && i+1 < len(s) && quote == '"' {
				i++
				ch = s[i]
			}
			cur.WriteByte(ch)
		case ch == '"' || ch == '\'':
			quote = ch
			has = true
		case ch == ' ' || ch == '\t':
			if cur.Len() > 0 || has {
				out = append(out, cur.String())
				cur.Reset()
				has = false
			}
		default:
			cur.WriteByte(ch)
		}
	}
	if cur.Len() > 0 || has {
		out = append(out, cur.String())
	}
	return out
}

// Rewrite writes the current values of the parameters that differ from their defaults to the
// config file, keeping the file's comments and other lines.
func (c *Config) Rewrite() error {
	if c.File == "" {
		return errors.New("The server is running without a config file")
	}
	c.mu.Lock()
	values := map[string]string{}
	for _, p := range params {
		values[p.name] = c.values[p.name]
	}
	c.mu.Unlock()
	old, err := os.ReadFile(c.File)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	written := map[string]bool{}
	var out []string
	for _, line := range strings.Split(string(old), "\n") {
		text := strings.TrimSpace(line)
		if text == "" || text[0] == '#' {
			out = append(out, line)
			continue
		}
		fields := splitConfigLine(text)
		p := paramByName[strings.ToLower(fields[0])]
		if p == nil || written[p.name] {
			continue
		}
		written[p.name] = true
		out = append(out, p.name+" "+quoteConfig(values[p.name]))
	}
	for _, p := range params {
		if !written[p.name] && values[p.name] != p.def {
			out = append(out, p.name+" "+quoteConfig(values[p.name]))
		}
	}
	for len(out) > 0 && out[len(out)-1] == "" {
		out = out[:len(out)-1]
	}
	tmp := c.File + ".tmp"
	if err := os.WriteFile(tmp, []byte(strings.Join(out, "\n")+"\n"), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, c.File)
}

func quoteConfig(v string) string {
	if v == "" || strings.ContainsAny(v, " \t\"'") {
		return strconv.Quote(v)
	}
	return v
}
