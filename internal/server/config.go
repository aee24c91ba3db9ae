package server

import (
	"bufio"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/cairn-db/cairn/internal/glob"
)

// Config holds the server's options under their redis.conf names. Typed fields are what the
// server reads at startup; parameters that CONFIG SET may change while clients run are read
// through the methods (RequirePass, MaxClients, ...), which are safe from any goroutine. Every
// parameter also has its textual value for CONFIG GET and REWRITE.
type Config struct {
	Bind            []string
	Port            int
	Dir             string
	AppendFsync     string
	TCPKeepAlive    int
	CacheSize       int64
	RecordCacheSize int64
	LogLevel        string
	LogFile         string
	// Level is the log level; CONFIG SET loglevel changes it while the server runs.
	Level              slog.LevelVar
	EnableDebugCommand string

	// Cluster mode (cluster.go).
	ClusterEnabled     bool
	ClusterNodeTimeout int
	ClusterInitial     string
	ClusterJoin        string
	ClusterShards      int
	ClusterReplicas    int
	ClusterPort        int
	ClusterAnnounceIP  string
	// ClusterAnnounceBusPort is the bus port the other nodes reach this one at, if not the one
	// it listens on.
	ClusterAnnounceBusPort int
	// ClusterSnapshotEntries is how many entries are applied between two checkpoints.
	ClusterSnapshotEntries int
	// DebugCodeVersion, for tests only, lowers the cluster version this node's binary claims
	// to implement, so a test plays a rolling upgrade with one binary (0: the binary's own).
	DebugCodeVersion int
	clusterProxy     atomic.Bool
	// clusterRebalance lets the meta group's leader move replicas and preferred leaders
	// (placement.go); clusterDeadAfter is how long, in seconds, a node must be unreachable
	// before its replicas are rebuilt elsewhere.
	clusterRebalance atomic.Bool
	clusterDeadAfter atomic.Int64
	// clusterMetaSize is how many members the meta group's leader grows the group to as nodes
	// join (metamove.go).
	clusterMetaSize atomic.Int64
	// clusterSlotRate bounds the bytes per second a slot move copies (0: none).
	clusterSlotRate atomic.Int64
	// clusterShardMaxBytes and clusterShardMerge drive automatic splits and merges (split.go).
	clusterShardMaxBytes atomic.Int64
	clusterShardMaxOps   atomic.Int64
	clusterShardMerge    atomic.Bool
	// clusterRebalanceRate bounds the bytes per second of snapshots the node sends (0: none).
	clusterRebalanceRate atomic.Int64

	// ClusterSecret is the secret every bus connection proves (empty: none).
	ClusterSecret string

	tlsMu sync.Mutex
	tls   tlsParams
	// MetricsAddr is where Prometheus metrics are served (metrics.go); empty: nowhere.
	MetricsAddr string
	// protectedMode is protected-mode (protected.go).
	protectedMode atomic.Bool

	// File is the config file the server was started with, for CONFIG REWRITE.
	File string

	live liveConfig

	// Users are the "user" lines of the config file, with where each was found (acl.go).
	Users      [][]string
	UsersWhere []string
	// requirePassHook, once the server runs, gives requirepass to the default user.
	requirePassHook atomic.Pointer[func(string)]

	mu     sync.Mutex
	values map[string]string
}

// liveConfig holds the parameters that event loops read on every connection or command.
type liveConfig struct {
	requirePass atomic.Pointer[string]
	maxClients  atomic.Int64
	// maxNewConnsPerSec is max-new-connections-per-second (connrate.go).
	maxNewConnsPerSec atomic.Int64
	timeout           atomic.Int64
	queryBufLimit     atomic.Int64
	maxBulkLen        atomic.Int64
	hz                atomic.Int64

	// Pub/sub, notifications, tracking (notify.go, outputlimit.go, tracking.go).
	notifyFlags     atomic.Uint32
	outputLimits    atomic.Pointer[outputLimits]
	trackingMaxKeys atomic.Int64

	// Diagnostics (slowlog.go, latency.go).
	slowlogSlower, slowlogMaxLen atomic.Int64
	latencyThreshold             atomic.Int64
	latencyTracking              atomic.Bool
}

// RequirePass is the password of the default user ("" for none).
func (c *Config) RequirePass() string {
	if p := c.live.requirePass.Load(); p != nil {
		return *p
	}
	return ""
}

// MaxClients is the most connections served at once.
func (c *Config) MaxClients() int { return int(c.live.maxClients.Load()) }

// MaxNewConnsPerSec is how many new connections a second are served (0: no limit).
func (c *Config) MaxNewConnsPerSec() int64 { return c.live.maxNewConnsPerSec.Load() }

// Timeout is how many seconds an idle client is kept; 0 forever.
func (c *Config) Timeout() int { return int(c.live.timeout.Load()) }

// ClientQueryBufferLimit is the most bytes a client's unparsed input may hold.
func (c *Config) ClientQueryBufferLimit() int64 { return c.live.queryBufLimit.Load() }

// ProtoMaxBulkLen is the largest bulk string a request may carry.
func (c *Config) ProtoMaxBulkLen() int64 { return c.live.maxBulkLen.Load() }

// Hz is the frequency of the server's background tasks.
func (c *Config) Hz() int { return int(c.live.hz.Load()) }

type paramKind int

const (
	kindString paramKind = iota
	kindInt
	kindOctal
	kindMemory
	kindMemoryPercent // a memory value or a percentage ("10%")
	kindBool
	kindEnum
	kindFlags // several enum words, space separated
	kindList  // space-separated words, like bind
	kindIntList
	kindSave
	kindOutputLimit
	kindPercentiles
	kindNotify
)

// param is one configuration parameter.
type param struct {
	name      string
	alias     string
	def       string
	kind      paramKind
	enum      []string
	min, max  int64
	clamp     [2]int64 // when set, values outside are clamped instead of refused (hz)
	immutable bool     // only at startup
	used      bool     // cairn acts on it; the others are accepted and reported only
	sensitive bool     // a secret, never logged
	check     func(v string) string
	apply     func(c *Config, v string)
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
	if p == nil && startup && strings.EqualFold(name, "user") {
		// "--user name rules..." on the command line, as redis-server takes it.
		c.Users = append(c.Users, append([]string{"user"}, strings.Fields(value)...))
		c.UsersWhere = append(c.UsersWhere, "the command line")
		return nil
	}
	if p == nil {
		return ErrUnknownParam
	}
	if p.immutable && !startup {
		return fmt.Errorf("can't set immutable config")
	}
	v, err := p.normalize(c.merge(p, value))
	if err != nil {
		return err
	}
	c.values[p.name] = v
	if p.apply != nil {
		p.apply(c, v)
	}
	return nil
}

// SetError is a refused CONFIG SET: the argument Redis names in its error and why.
type SetError struct {
	Unknown bool // no such parameter: Redis words this error differently
	Arg     string
	Msg     string
}

// SetMany sets several parameters at once, all or none, checking them in Redis's order: first
// that every name is known, settable and not repeated (the first problem wins), then every
// value.
func (c *Config) SetMany(pairs [][2]string) *SetError {
	ps := make([]*param, len(pairs))
	for i, kv := range pairs {
		p := paramByName[strings.ToLower(kv[0])]
		switch {
		case p == nil:
			return &SetError{Unknown: true, Arg: kv[0]}
		case p.immutable:
			return &SetError{Arg: kv[0], Msg: "can't set immutable config"}
		case slices.Contains(ps[:i], p):
			return &SetError{Arg: kv[0], Msg: "duplicate parameter"}
		}
		ps[i] = p
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	values := make([]string, len(pairs))
	for i, kv := range pairs {
		v, err := ps[i].normalize(c.merge(ps[i], kv[1]))
		if err != nil {
			return &SetError{Arg: kv[0], Msg: err.Error()}
		}
		values[i] = v
	}
	for i, p := range ps {
		c.values[p.name] = values[i]
		if p.apply != nil {
			p.apply(c, values[i])
		}
	}
	return nil
}

// merge returns the value to validate for p: client-output-buffer-limit changes only the
// classes named, so the current limits come first and the new ones override them.
func (c *Config) merge(p *param, v string) string {
	if p.kind == kindOutputLimit {
		return c.values[p.name] + " " + v
	}
	return v
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

// normalize validates a value and returns it in canonical form. The error texts are Redis's.
func (p *param) normalize(v string) (string, error) {
	out, err := p.normalizeKind(v)
	if err == nil && p.check != nil {
		if msg := p.check(out); msg != "" {
			return "", errors.New(msg)
		}
	}
	return out, err
}

func (p *param) normalizeKind(v string) (string, error) {
	switch p.kind {
	case kindInt, kindOctal:
		base := 10
		if p.kind == kindOctal {
			base = 8
		}
		n, err := strconv.ParseInt(v, base, 64)
		if err != nil {
			return "", errors.New("argument couldn't be parsed into an integer")
		}
		if p.clamp != [2]int64{} {
			n = max(p.clamp[0], min(n, p.clamp[1]))
		}
		if n < p.min || n > p.max {
			return "", fmt.Errorf("argument must be between %d and %d inclusive", p.min, p.max)
		}
		if p.kind == kindOctal {
			return strconv.FormatInt(n, 8), nil
		}
		return strconv.FormatInt(n, 10), nil
	case kindMemory, kindMemoryPercent:
		if p.kind == kindMemoryPercent && strings.HasSuffix(v, "%") {
			n, err := strconv.ParseInt(strings.TrimSuffix(v, "%"), 10, 64)
			if err != nil || n < 0 {
				return "", errors.New("argument must be a memory or percent value")
			}
			return strconv.FormatInt(n, 10) + "%", nil
		}
		n, ok := parseMemory(v)
		if !ok {
			return "", errors.New("argument must be a memory value")
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
		return "", errors.New("argument must be 'yes' or 'no'")
	case kindEnum, kindFlags:
		words := strings.Fields(strings.ToLower(v))
		ok := len(words) > 0 && (p.kind == kindFlags || len(words) == 1)
		for _, w := range words {
			ok = ok && slices.Contains(p.enum, w)
		}
		if !ok {
			return "", fmt.Errorf("argument(s) must be one of the following: %s", strings.Join(p.enum, ", "))
		}
		return strings.Join(words, " "), nil
	case kindList:
		return strings.Join(strings.Fields(v), " "), nil
	case kindIntList:
		words := strings.Fields(v)
		if int64(len(words)) < p.min || int64(len(words)) > p.max {
			return "", errors.New("wrong number of arguments")
		}
		for _, w := range words {
			if _, err := strconv.Atoi(w); err != nil {
				return "", errors.New("Invalid oom-score-adj-values")
			}
		}
		return strings.Join(words, " "), nil
	case kindSave:
		return normalizeSave(v)
	case kindOutputLimit:
		return normalizeOutputLimit(v)
	case kindPercentiles:
		words := strings.Fields(v)
		for i, w := range words {
			f, err := strconv.ParseFloat(w, 64)
			if err != nil || math.IsNaN(f) { // Redis's string2d refuses nan too
				return "", errors.New("latency-tracking-info-percentiles parameters should be a list of doubles")
			}
			if f < 0 || f > 100 {
				return "", errors.New("latency-tracking-info-percentiles parameters should sit between [0.0,100.0]")
			}
			words[i] = strconv.FormatFloat(f, 'f', -1, 64)
		}
		return strings.Join(words, " "), nil
	case kindNotify:
		return normalizeNotify(v)
	}
	return v, nil
}

// normalizeSave checks "seconds changes" pairs; "" disables saving.
func normalizeSave(v string) (string, error) {
	words := strings.Fields(v)
	if len(words)%2 != 0 {
		return "", errors.New("Invalid save parameters")
	}
	for _, w := range words {
		if n, err := strconv.ParseInt(w, 10, 64); err != nil || n < 0 {
			return "", errors.New("Invalid save parameters")
		}
	}
	return strings.Join(words, " "), nil
}

// normalizeOutputLimit checks "class hard soft seconds" groups; a value names only the classes
// it changes, and the canonical form lists all three.
func normalizeOutputLimit(v string) (string, error) {
	words := strings.Fields(strings.ToLower(v))
	if len(words)%4 != 0 {
		return "", errors.New("Wrong number of arguments in buffer limit configuration.")
	}
	limits := map[string][3]int64{"normal": {0, 0, 0}, "slave": {268435456, 67108864, 60}, "pubsub": {33554432, 8388608, 60}}
	for i := 0; i < len(words); i += 4 {
		class := words[i]
		if class == "replica" {
			class = "slave"
		}
		if _, ok := limits[class]; !ok {
			return "", errors.New("Invalid client class specified in buffer limit configuration.")
		}
		hard, ok1 := parseMemory(words[i+1])
		soft, ok2 := parseMemory(words[i+2])
		secs, err := strconv.ParseInt(words[i+3], 10, 64)
		if !ok1 || !ok2 || err != nil || secs < 0 {
			return "", errors.New("Error in hard, soft or soft_seconds setting in buffer limit configuration.")
		}
		limits[class] = [3]int64{hard, soft, secs}
	}
	var out []string
	for _, class := range []string{"normal", "slave", "pubsub"} {
		l := limits[class]
		out = append(out, fmt.Sprintf("%s %d %d %d", class, l[0], l[1], l[2]))
	}
	return strings.Join(out, " "), nil
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
// values, include directives. Several save lines add up, as in Redis.
func (c *Config) LoadFile(path string) error {
	if err := c.loadFile(path, 0, map[string]bool{}); err != nil {
		return err
	}
	c.File = path
	return nil
}

func (c *Config) loadFile(path string, depth int, seen map[string]bool) error {
	if depth > 8 {
		return fmt.Errorf("%s: includes nested too deeply", path)
	}
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
		name, value := strings.ToLower(fields[0]), strings.Join(fields[1:], " ")
		switch name {
		case "include":
			if err := c.loadFile(value, depth+1, seen); err != nil {
				return err
			}
			continue
		case "user":
			c.Users = append(c.Users, fields)
			c.UsersWhere = append(c.UsersWhere, fmt.Sprintf("%s:%d", path, line))
			continue
		case "rename-command", "loadmodule", "sentinel":
			return fmt.Errorf("%s:%d: %s is not supported by cairn", path, line, name)
		case "save":
			if prev, ok := c.Get("save"); ok && seen["save"] && value != "" && prev != "" {
				value = prev + " " + value
			}
			seen["save"] = true
		}
		if err := c.Set(name, value, true); err != nil {
			return fmt.Errorf("%s:%d: %s: %w", path, line, fields[0], err)
		}
	}
	return sc.Err()
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
	marked := false
	for _, p := range params {
		if !written[p.name] && values[p.name] != p.def {
			if !marked {
				for len(out) > 0 && out[len(out)-1] == "" {
					out = out[:len(out)-1]
				}
				out = append(out, "# Generated by CONFIG REWRITE")
				marked = true
			}
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

// ClusterProxy reports whether a node forwards commands it cannot serve to the leader instead
// of redirecting the client (cluster-proxy); CONFIG SET may change it at run time.
func (c *Config) ClusterProxy() bool { return c.clusterProxy.Load() }
