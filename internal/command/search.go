package command

import (
	"strings"

	"github.com/cairn-db/cairn/internal/search"
)

// The Redis Query Engine's commands (FT.*) over hashes; internal/search does the work. Index
// definitions and records are written only in apply — FT.CREATE, FT.DROPINDEX, FT.ALTER and the
// alias commands are write operations, and the applier brings every index up to date after each
// operation (search.Maintainer) — so every replica holds the same indexes, and a query after an
// acknowledged write sees it.

// BuildName is the internal operation that indexes the next keys of an index under
// construction; the shard's leader proposes it while an index is building.
const BuildName = "ft._build"

func init() {
	ro := FlagReadOnly
	cmd := func(name string, arity int, flags Flags, summary string, run func(*Ctx)) *Command {
		cats := []string{"search", "read", "slow"}
		if flags&FlagWrite != 0 {
			cats = []string{"search", "write", "slow"}
		}
		return &Command{Name: name, Arity: arity, Flags: flags, Categories: cats, Group: "search",
			Since: "8.0.0", Summary: summary, Run: run}
	}
	Register(
		cmd("ft.create", -2, FlagWrite|FlagDenyOOM, "Creates an index with the given spec.", runFTCreate),
		cmd("ft.dropindex", -2, FlagWrite, "Deletes an index, and with DD the documents it holds.", runFTDropIndex),
		cmd("ft.alter", -3, FlagWrite|FlagDenyOOM, "Adds attributes to an index's schema.", runFTAlter),
		cmd("ft.aliasadd", 3, FlagWrite, "Adds an alias to an index.", runFTAlias),
		cmd("ft.aliasupdate", 3, FlagWrite, "Adds or moves an alias to an index.", runFTAlias),
		cmd("ft.aliasdel", 2, FlagWrite, "Deletes an alias.", runFTAlias),
		cmd("ft.search", -3, ro, "Searches an index with a textual query.", runFTSearch),
		cmd("ft.aggregate", -3, ro, "Runs a search query and groups, reduces, sorts and transforms its results.", runFTAggregate),
		cmd("ft.explain", -3, ro, "Returns the execution plan of a query.", runFTExplain),
		cmd("ft.info", 2, ro, "Returns information and statistics about an index.", runFTInfo),
		cmd("ft._list", 1, ro, "Lists the indexes.", runFTList),
		cmd("ft.tagvals", 3, ro, "Returns the distinct values of a tag attribute.", runFTTagVals),
		&Command{Name: BuildName, Arity: 2, Flags: FlagWrite | FlagInternal, Run: runFTBuild},
		&Command{Name: ShardSearchName, Arity: -5, Flags: ro | FlagInternal, Run: runFTShardSearch},
		&Command{Name: ShardAggregateName, Arity: -3, Flags: ro | FlagInternal, Run: runFTShardAggregate},
		&Command{Name: ShardInfoName, Arity: 2, Flags: ro | FlagInternal, Run: runFTShardInfo},
	)
}

// The shard's side of a query in cluster mode (search/cluster.go): internal reads the node
// that took a client's FT.SEARCH, FT.AGGREGATE or FT.INFO sends to every shard, with the
// client's arguments, and whose replies it merges.
const (
	ShardSearchName    = "ft._shardsearch"
	ShardAggregateName = "ft._shardaggregate"
	ShardInfoName      = "ft._shardinfo"
)

func runFTShardSearch(c *Ctx) {
	if cat, ok := c.catalog(); ok {
		c.searchView().ShardSearch(cat, c.Args[1:], c.W)
	}
}

func runFTShardAggregate(c *Ctx) {
	if cat, ok := c.catalog(); ok {
		c.searchView().ShardAggregate(cat, c.Args[1:], c.W)
	}
}

func runFTShardInfo(c *Ctx) {
	if cat, ok := c.catalog(); ok {
		c.searchView().ShardInfo(cat, string(c.Args[1]), c.W)
	}
}

// BuildArgs are the arguments of one build step of index name.
func BuildArgs(name string) [][]byte { return [][]byte{[]byte(BuildName), []byte(name)} }

// touchesSearch reports whether an operation runs a command that changes index definitions.
func touchesSearch(cmds [][][]byte) bool {
	for _, args := range cmds {
		if len(args[0]) > 3 && EqualFold(args[0][:3], "ft.") {
			return true
		}
	}
	return false
}

func (c *Ctx) catalog() (*search.Catalog, bool) {
	cat, err := search.LoadCatalog(c.Tx.Reader())
	if err != nil {
		c.Fail(err)
		return nil, false
	}
	return cat, true
}

func argStrings(args [][]byte) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = string(a)
	}
	return out
}

func runFTCreate(c *Ctx) {
	if c.DB != 0 {
		c.Err("Cannot create index on db != 0")
		return
	}
	name := string(c.Args[1])
	ix, msg := search.ParseCreate(name, argStrings(c.Args[2:]))
	if msg != "" {
		c.Err(msg)
		return
	}
	cat, ok := c.catalog()
	if !ok {
		return
	}
	if cat.Lookup(name) != nil {
		c.Err("Index already exists")
		return
	}
	ix.DB = c.Tx.DB()
	b := c.Tx.Batch()
	if err := search.Create(b, ix); err != nil {
		c.Fail(err)
		return
	}
	// The first keys are indexed at once, so a small keyspace is searchable as soon as FT.CREATE
	// returns; the leader proposes the rest as build steps.
	if _, err := search.BuildStep(b, name, c.Now); err != nil {
		c.Fail(err)
		return
	}
	c.W.OK()
}

func runFTBuild(c *Ctx) {
	if _, err := search.BuildStep(c.Tx.Batch(), string(c.Args[1]), c.Now); err != nil {
		c.Fail(err)
		return
	}
	c.W.OK()
}

func runFTDropIndex(c *Ctx) {
	dd := false
	switch {
	case len(c.Args) == 3 && EqualFold(c.Args[2], "dd"):
		dd = true
	case len(c.Args) != 2:
		c.Syntax()
		return
	}
	cat, ok := c.catalog()
	if !ok {
		return
	}
	ix := cat.Lookup(string(c.Args[1]))
	if ix == nil || ix.Name != string(c.Args[1]) {
		c.Err("Unknown Index name")
		return
	}
	if dd {
		var keys [][]byte
		if err := search.EachDoc(c.Tx.Reader(), ix, func(k []byte) bool {
			keys = append(keys, append([]byte{}, k...))
			return true
		}); err != nil {
			c.Fail(err)
			return
		}
		c.Tx.SetDB(ix.DB)
		for _, k := range keys {
			if _, err := c.Tx.DeleteKey(k); err != nil {
				c.Fail(err)
				return
			}
		}
	}
	if err := search.Drop(c.Tx.Batch(), cat, ix); err != nil {
		c.Fail(err)
		return
	}
	c.W.OK()
}

func runFTAlter(c *Ctx) {
	cat, ok := c.catalog()
	if !ok {
		return
	}
	ix := cat.Lookup(string(c.Args[1]))
	if ix == nil {
		c.Err("Unknown index name")
		return
	}
	i := 2
	if i < len(c.Args) && EqualFold(c.Args[i], "skipinitialscan") {
		c.Err("ERR SKIPINITIALSCAN is not supported by cairn")
		return
	}
	if i+1 >= len(c.Args) || !EqualFold(c.Args[i], "schema") || !EqualFold(c.Args[i+1], "add") {
		c.Syntax()
		return
	}
	if msg := ix.AddFields(argStrings(c.Args[i+2:])); msg != "" {
		c.Err(msg)
		return
	}
	// The new attributes cover existing documents once the index is built again over them.
	b := c.Tx.Batch()
	if err := search.Rebuild(b, ix); err != nil {
		c.Fail(err)
		return
	}
	if _, err := search.BuildStep(b, ix.Name, c.Now); err != nil {
		c.Fail(err)
		return
	}
	c.W.OK()
}

func runFTAlias(c *Ctx) {
	cat, ok := c.catalog()
	if !ok {
		return
	}
	alias := string(c.Args[1])
	b := c.Tx.Batch()
	if EqualFold(c.Args[0], "ft.aliasdel") {
		if cat.Lookup(alias) == nil || cat.Lookup(alias).Name == alias {
			c.Err("Alias does not exist")
			return
		}
		if err := search.SetAlias(b, alias, ""); err != nil {
			c.Fail(err)
			return
		}
		c.W.OK()
		return
	}
	ix := cat.Lookup(string(c.Args[2]))
	if ix == nil {
		c.Err("Unknown index name (or name is an alias itself)")
		return
	}
	if cur := cat.Lookup(alias); cur != nil {
		if cur.Name == alias {
			c.Err("Unknown index name (or name is an alias itself)")
			return
		}
		if EqualFold(c.Args[0], "ft.aliasadd") {
			c.Err("Alias already exists")
			return
		}
	}
	if err := search.SetAlias(b, alias, ix.Name); err != nil {
		c.Fail(err)
		return
	}
	c.W.OK()
}

func (c *Ctx) searchView() *search.View {
	return &search.View{R: c.Tx.Reader(), Now: c.Now}
}

func runFTSearch(c *Ctx) {
	if cat, ok := c.catalog(); ok {
		c.searchView().Search(cat, c.Args[1:], c.W)
	}
}

func runFTAggregate(c *Ctx) {
	if cat, ok := c.catalog(); ok {
		c.searchView().Aggregate(cat, c.Args[1:], c.W)
	}
}

func runFTExplain(c *Ctx) {
	if cat, ok := c.catalog(); ok {
		c.searchView().Explain(cat, c.Args[1:], c.W)
	}
}

func runFTInfo(c *Ctx) {
	if cat, ok := c.catalog(); ok {
		c.searchView().Info(cat, string(c.Args[1]), c.W)
	}
}

func runFTList(c *Ctx) {
	cat, ok := c.catalog()
	if !ok {
		return
	}
	ixs := cat.Indexes()
	if c.W.RESP3() {
		c.W.Set(len(ixs))
	} else {
		c.W.Array(len(ixs))
	}
	for _, ix := range ixs {
		c.W.BulkString(ix.Name)
	}
}

func runFTTagVals(c *Ctx) {
	cat, ok := c.catalog()
	if !ok {
		return
	}
	ix := cat.Lookup(string(c.Args[1]))
	if ix == nil {
		c.Err("Unknown Index name")
		return
	}
	vals, msg, err := c.searchView().TagVals(ix, strings.TrimPrefix(string(c.Args[2]), "@"))
	switch {
	case err != nil:
		c.Fail(err)
	case msg != "":
		c.Err(msg)
	default:
		if c.W.RESP3() {
			c.W.Set(len(vals))
		} else {
			c.W.Array(len(vals))
		}
		for _, v := range vals {
			c.W.BulkString(v)
		}
	}
}
