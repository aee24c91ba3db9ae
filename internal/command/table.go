package command

import (
	"sort"
	"strings"
	"sync"
)

// Flags describe a command, as Redis's command flags do.
type Flags uint32

// Command flags. The first group mirrors Redis's (COMMAND INFO reports them); the rest are
// cairn's own.
const (
	FlagWrite Flags = 1 << iota
	FlagReadOnly
	FlagDenyOOM
	FlagAdmin
	FlagPubSub
	FlagNoScript
	FlagBlocking
	FlagLoading
	FlagStale
	FlagSkipMonitor
	FlagSkipSlowlog
	FlagAsking
	FlagFast
	FlagNoAuth
	FlagMayReplicate
	FlagNoMandatoryKeys
	FlagNoAsyncLoading
	FlagNoMulti
	FlagMovableKeys
	FlagAllowBusy
	FlagModule

	// FlagPoint marks a read that does one point lookup, so it needs no snapshot.
	FlagPoint
	// FlagInternal marks an operation only the server itself proposes (expiry sweeps); clients
	// cannot call it.
	FlagInternal
)

var flagNames = []struct {
	f    Flags
	name string
}{
	{FlagWrite, "write"}, {FlagReadOnly, "readonly"}, {FlagDenyOOM, "denyoom"},
	{FlagModule, "module"}, {FlagAdmin, "admin"}, {FlagPubSub, "pubsub"},
	{FlagNoScript, "noscript"}, {FlagBlocking, "blocking"}, {FlagLoading, "loading"},
	{FlagStale, "stale"}, {FlagSkipMonitor, "skip_monitor"}, {FlagSkipSlowlog, "skip_slowlog"},
	{FlagAsking, "asking"}, {FlagFast, "fast"}, {FlagNoAuth, "no_auth"},
	{FlagMayReplicate, "may_replicate"}, {FlagNoMandatoryKeys, "no_mandatory_keys"},
	{FlagNoAsyncLoading, "no_async_loading"}, {FlagNoMulti, "no_multi"},
	{FlagMovableKeys, "movablekeys"}, {FlagAllowBusy, "allow_busy"},
}

// Names lists the Redis names of the flags that COMMAND INFO reports.
func (f Flags) Names() []string {
	var out []string
	for _, fn := range flagNames {
		if f&fn.f != 0 {
			out = append(out, fn.name)
		}
	}
	return out
}

// Command is one entry of the command table.
type Command struct {
	Name  string // lower case; "container|sub" for subcommands
	Arity int    // as Redis: n exactly, -n at least n
	Flags Flags
	// Legacy key positions, 1-based; LastKey -1 means the last argument.
	FirstKey, LastKey, Step int
	Categories              []string // ACL categories, without '@'
	Group                   string
	Since                   string
	// Summary is a one-line description for COMMAND DOCS (cairn's own words; may be empty).
	Summary string
	// DocFlags ("deprecated", "syscmd") and DeprecatedSince are reported by COMMAND DOCS.
	DocFlags        []string
	DeprecatedSince string
	// KeySpecs are the command's key specifications as COMMAND INFO reports them.
	KeySpecs []KeySpec
	// Args is the argument grammar, for COMMAND DOCS.
	Args []Arg
	// Tips are Redis's request/response policy hints.
	Tips []string

	// Run executes the command against c.Tx. Nil for commands that the server executes itself.
	Run func(c *Ctx)
	// Keys returns the positions of the key arguments when they cannot be read from the legacy
	// positions (movable keys: ZUNIONSTORE, EVAL, SORT STORE, ...).
	Keys func(args [][]byte) []int

	Subcommands map[string]*Command
	Parent      *Command

	// ID numbers every command and subcommand densely from 0, for bitmaps of commands (ACL).
	ID int
}

// IsWrite reports whether the command changes data.
func (c *Command) IsWrite() bool { return c.Flags&FlagWrite != 0 }

// KeySpec is a key specification (Redis 7).
type KeySpec struct {
	Flags []string
	// BeginSearch: Index > 0 for "index", or Keyword with StartFrom for "keyword".
	BeginIndex   int
	Keyword      string
	KeywordStart int
	// FindKeys: "range" (LastKey, KeyStep, Limit) or "keynum" (KeyNumIdx, FirstKey, KeyStep).
	Range     bool
	LastKey   int
	KeyStep   int
	Limit     int
	KeyNumIdx int
	FirstKey  int
	// Unknown: the search begins nowhere Redis can describe; UnknownKeys: keys cannot be found
	// without running the command.
	Unknown     bool
	UnknownKeys bool
}

// Arg is one argument of a command's grammar.
type Arg struct {
	Name     string
	Type     string // string, integer, double, key, pattern, unix-time, pure-token, oneof, block
	Token    string
	Optional bool
	Multiple bool
	// MultipleToken: the token repeats with each value.
	MultipleToken bool
	KeySpecIndex  int
	Since         string
	// Display is the argument's display text in COMMAND DOCS, when it differs from Name.
	Display         string
	DeprecatedSince string
	Args            []Arg
}

var (
	table      map[string]*Command
	registered []*Command
	tableOnce  sync.Once
)

// Register adds command handlers. Family files call it from init. A command the reference
// describes (specs_gen.go) needs only its Name, Run and any extra Flags or Keys; one it does not
// (commands newer than the reference, cairn's own) carries its full metadata.
func Register(cmds ...*Command) {
	if table != nil {
		panic("command: Register after the table was built")
	}
	registered = append(registered, cmds...)
}

func buildTable() {
	table = map[string]*Command{}
	for _, c := range generatedSpecs() {
		add(c)
	}
	for _, r := range registered {
		name := strings.ToLower(r.Name)
		c := find(name)
		if c == nil {
			r.Name = name
			add(r)
			continue
		}
		c.Run = r.Run
		c.Flags |= r.Flags
		if r.Keys != nil {
			c.Keys = r.Keys
		}
		if r.Args != nil {
			c.Args = r.Args // a grammar newer than the reference's
		}
	}
	numberCommands()
}

// byID lists every command and subcommand by its ID.
var byID []*Command

// numberCommands gives each command and subcommand its ID, in name order.
func numberCommands() {
	names := make([]string, 0, len(table))
	for n := range table {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		c := table[n]
		c.ID = len(byID)
		byID = append(byID, c)
		subs := make([]string, 0, len(c.Subcommands))
		for sn := range c.Subcommands {
			subs = append(subs, sn)
		}
		sort.Strings(subs)
		for _, sn := range subs {
			sc := c.Subcommands[sn]
			sc.ID = len(byID)
			byID = append(byID, sc)
		}
	}
}

// ByID returns every command and subcommand, indexed by ID. The slice must not be changed.
func ByID() []*Command {
	tableOnce.Do(buildTable)
	return byID
}

func find(name string) *Command {
	parent, sub, ok := strings.Cut(name, "|")
	if !ok {
		return table[name]
	}
	if p := table[parent]; p != nil {
		return p.Subcommands[sub]
	}
	return nil
}

func add(c *Command) {
	parent, sub, ok := strings.Cut(c.Name, "|")
	if !ok {
		table[c.Name] = c
		return
	}
	p := table[parent]
	if p == nil {
		panic("command: subcommand " + c.Name + " has no container")
	}
	if p.Subcommands == nil {
		p.Subcommands = map[string]*Command{}
	}
	c.Parent = p
	p.Subcommands[sub] = c
}

// Lookup finds a command by name, case-insensitively, without allocating.
func Lookup(name []byte) *Command {
	tableOnce.Do(buildTable)
	var buf [32]byte
	if len(name) > len(buf) {
		return table[strings.ToLower(string(name))]
	}
	for i, c := range name {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	return table[string(buf[:len(name)])]
}

// LookupSub finds a subcommand of c by name, case-insensitively.
func (c *Command) LookupSub(name []byte) *Command {
	if c.Subcommands == nil {
		return nil
	}
	return c.Subcommands[strings.ToLower(string(name))]
}

// All returns every top-level command, sorted by name.
func All() []*Command {
	tableOnce.Do(buildTable)
	out := make([]*Command, 0, len(table))
	for _, c := range table {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// CheckArity reports whether n arguments (command name included) satisfy arity.
func CheckArity(arity, n int) bool {
	if arity >= 0 {
		return n == arity
	}
	return n >= -arity
}

// KeyPositions returns the indexes of the key arguments of args.
func (c *Command) KeyPositions(args [][]byte) []int {
	if c.Keys != nil {
		return c.Keys(args)
	}
	if c.FirstKey <= 0 {
		return nil
	}
	last := c.LastKey
	if last < 0 {
		last = len(args) + last
	}
	step := c.Step
	if step <= 0 {
		step = 1
	}
	var out []int
	for i := c.FirstKey; i <= last && i < len(args); i += step {
		out = append(out, i)
	}
	return out
}
