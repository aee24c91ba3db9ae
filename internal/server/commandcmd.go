package server

import (
	"sort"
	"strings"

	"github.com/cairn-db/cairn/internal/command"
	"github.com/cairn-db/cairn/internal/glob"
	"github.com/cairn-db/cairn/internal/resp"
)

// COMMAND reports the command table the way Redis 7+ does, so that clients that route by it
// (go-redis ClusterClient, redis-cli hints) see what they would see from Redis.

func init() {
	registerLocal("command", cmdCommand)
}

func cmdCommand(s *Server, cl *Client, args [][]byte) {
	w := &cl.loop.w
	if len(args) == 1 {
		all := visibleCommands()
		w.Array(len(all))
		for _, c := range all {
			writeCommandInfo(w, c)
		}
		return
	}
	switch strings.ToLower(string(args[1])) {
	case "count":
		w.Int(int64(len(visibleCommands())))
	case "info":
		if len(args) == 2 {
			all := visibleCommands()
			w.Array(len(all))
			for _, c := range all {
				writeCommandInfo(w, c)
			}
			return
		}
		w.Array(len(args) - 2)
		for _, name := range args[2:] {
			if c := lookupFullName(name); c != nil {
				writeCommandInfo(w, c)
			} else {
				w.Null()
			}
		}
	case "docs":
		var cmds []*command.Command
		if len(args) == 2 {
			cmds = visibleCommands()
		} else {
			for _, name := range args[2:] {
				if c := lookupFullName(name); c != nil {
					cmds = append(cmds, c)
				}
			}
		}
		w.Map(len(cmds))
		for _, c := range cmds {
			w.BulkString(c.Name)
			writeCommandDocs(w, c)
		}
	case "list":
		commandList(w, args)
	case "getkeys", "getkeysandflags":
		commandGetKeys(w, args, command.EqualFold(args[1], "getkeysandflags"))
	case "help":
		writeHelp(w, "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
			"(no subcommand)", "    Return details about all commands.",
			"COUNT", "    Return the total number of commands in this server.",
			"LIST", "    Return a list of all commands in this server.",
			"INFO [<command-name> ...]", "    Return details about multiple commands.",
			"    If no command names are given, documentation details for all",
			"    commands are returned.",
			"DOCS [<command-name> ...]", "    Return documentation details about multiple commands.",
			"    If no command names are given, documentation details for all",
			"    commands are returned.",
			"GETKEYS <full-command>", "    Return the keys from a full command.",
			"GETKEYSANDFLAGS <full-command>", "    Return the keys and the access flags from a full command.",
			"HELP", "    Print this help.")
	}
}

// visibleCommands is the command table without cairn's internal operations.
func visibleCommands() []*command.Command {
	all := command.All()
	out := all[:0:0]
	for _, c := range all {
		if c.Flags&command.FlagInternal == 0 {
			out = append(out, c)
		}
	}
	return out
}

// writeHelp writes a HELP reply: the lines as simple strings.
func writeHelp(w *resp.Writer, lines ...string) {
	w.Array(len(lines))
	for _, l := range lines {
		w.Status(l)
	}
}

// lookupFullName finds "get" or "config|get".
func lookupFullName(name []byte) *command.Command {
	parent, sub, ok := strings.Cut(string(name), "|")
	c := command.Lookup([]byte(parent))
	if c == nil || c.Flags&command.FlagInternal != 0 || !ok {
		if c != nil && c.Flags&command.FlagInternal != 0 {
			return nil
		}
		return c
	}
	return c.LookupSub([]byte(sub))
}

func writeCommandInfo(w *resp.Writer, c *command.Command) {
	w.Array(10)
	w.BulkString(c.Name)
	w.Int(int64(c.Arity))
	flags := c.Flags.Names()
	w.Set(len(flags))
	for _, f := range flags {
		w.Status(f)
	}
	w.Int(int64(c.FirstKey))
	w.Int(int64(c.LastKey))
	w.Int(int64(c.Step))
	w.Set(len(c.Categories))
	for _, cat := range c.Categories {
		w.Status("@" + cat)
	}
	w.Set(len(c.Tips))
	for _, t := range c.Tips {
		w.BulkString(t)
	}
	w.Set(len(c.KeySpecs))
	for i := range c.KeySpecs {
		writeKeySpec(w, &c.KeySpecs[i])
	}
	subs := sortedSubcommands(c)
	if len(subs) == 0 {
		w.Set(0)
		return
	}
	w.Array(len(subs))
	for _, sc := range subs {
		writeCommandInfo(w, sc)
	}
}

func sortedSubcommands(c *command.Command) []*command.Command {
	subs := make([]*command.Command, 0, len(c.Subcommands))
	for _, sc := range c.Subcommands {
		subs = append(subs, sc)
	}
	sort.Slice(subs, func(i, j int) bool { return subs[i].Name < subs[j].Name })
	return subs
}

func writeKeySpec(w *resp.Writer, ks *command.KeySpec) {
	w.Map(3)
	w.BulkString("flags")
	flags := ks.SpecFlags()
	w.Set(len(flags))
	for _, f := range flags {
		w.Status(f)
	}
	w.BulkString("begin_search")
	w.Map(2)
	w.BulkString("type")
	switch {
	case ks.Unknown:
		w.BulkString("unknown")
		w.BulkString("spec")
		w.Map(0)
	case ks.Keyword != "":
		w.BulkString("keyword")
		w.BulkString("spec")
		w.Map(2)
		w.BulkString("keyword")
		w.BulkString(ks.Keyword)
		w.BulkString("startfrom")
		w.Int(int64(ks.KeywordStart))
	default:
		w.BulkString("index")
		w.BulkString("spec")
		w.Map(1)
		w.BulkString("index")
		w.Int(int64(ks.BeginIndex))
	}
	w.BulkString("find_keys")
	w.Map(2)
	w.BulkString("type")
	switch {
	case ks.UnknownKeys:
		w.BulkString("unknown")
		w.BulkString("spec")
		w.Map(0)
	case ks.Range:
		w.BulkString("range")
		w.BulkString("spec")
		w.Map(3)
		w.BulkString("lastkey")
		w.Int(int64(ks.LastKey))
		w.BulkString("keystep")
		w.Int(int64(ks.KeyStep))
		w.BulkString("limit")
		w.Int(int64(ks.Limit))
	default:
		w.BulkString("keynum")
		w.BulkString("spec")
		w.Map(3)
		w.BulkString("keynumidx")
		w.Int(int64(ks.KeyNumIdx))
		w.BulkString("firstkey")
		w.Int(int64(ks.FirstKey))
		w.BulkString("keystep")
		w.Int(int64(ks.KeyStep))
	}
}

// writeCommandDocs writes a command's COMMAND DOCS map. Redis's prose (summaries, complexity,
// history) is not reproduced: the summary is cairn's own, possibly empty.
func writeCommandDocs(w *resp.Writer, c *command.Command) {
	n := 3
	if len(c.DocFlags) > 0 {
		n++
	}
	if c.DeprecatedSince != "" {
		n++
	}
	if len(c.Args) > 0 {
		n++
	}
	subs := sortedSubcommands(c)
	if len(subs) > 0 {
		n++
	}
	w.Map(n)
	w.BulkString("summary")
	w.BulkString(c.Summary)
	w.BulkString("since")
	w.BulkString(c.Since)
	w.BulkString("group")
	w.BulkString(c.Group)
	if len(c.DocFlags) > 0 {
		w.BulkString("doc_flags")
		w.Set(len(c.DocFlags))
		for _, f := range c.DocFlags {
			w.Status(f)
		}
	}
	if c.DeprecatedSince != "" {
		w.BulkString("deprecated_since")
		w.BulkString(c.DeprecatedSince)
	}
	if len(c.Args) > 0 {
		w.BulkString("arguments")
		writeArgDocs(w, c.Args)
	}
	if len(subs) > 0 {
		w.BulkString("subcommands")
		w.Map(len(subs))
		for _, sc := range subs {
			w.BulkString(sc.Name)
			writeCommandDocs(w, sc)
		}
	}
}

func writeArgDocs(w *resp.Writer, args []command.Arg) {
	w.Array(len(args))
	for i := range args {
		a := &args[i]
		var flags []string
		if a.Optional {
			flags = append(flags, "optional")
		}
		if a.Multiple {
			flags = append(flags, "multiple")
		}
		if a.MultipleToken {
			flags = append(flags, "multiple_token")
		}
		nested := a.Type == "oneof" || a.Type == "block"
		n := 2
		for _, present := range []bool{a.Display != "", a.Type == "key", a.Token != "", a.Since != "", a.DeprecatedSince != "", len(flags) > 0, nested} {
			if present {
				n++
			}
		}
		w.Map(n)
		w.BulkString("name")
		w.BulkString(a.Name)
		w.BulkString("type")
		w.BulkString(a.Type)
		if a.Display != "" {
			w.BulkString("display_text")
			w.BulkString(a.Display)
		}
		if a.Type == "key" {
			w.BulkString("key_spec_index")
			w.Int(int64(a.KeySpecIndex))
		}
		if a.Token != "" {
			w.BulkString("token")
			w.BulkString(a.Token)
		}
		if a.Since != "" {
			w.BulkString("since")
			w.BulkString(a.Since)
		}
		if a.DeprecatedSince != "" {
			w.BulkString("deprecated_since")
			w.BulkString(a.DeprecatedSince)
		}
		if len(flags) > 0 {
			w.BulkString("flags")
			w.Set(len(flags))
			for _, f := range flags {
				w.Status(f)
			}
		}
		if nested {
			w.BulkString("arguments")
			writeArgDocs(w, a.Args)
		}
	}
}

// commandList answers COMMAND LIST [FILTERBY MODULE name | ACLCAT cat | PATTERN pattern]: every
// command name, subcommands included.
func commandList(w *resp.Writer, args [][]byte) {
	var match func(c *command.Command) bool
	switch {
	case len(args) == 2:
		match = func(*command.Command) bool { return true }
	case len(args) == 5 && command.EqualFold(args[2], "filterby"):
		v := string(args[4])
		switch strings.ToLower(string(args[3])) {
		case "module":
			match = func(*command.Command) bool { return false } // cairn loads no modules
		case "aclcat":
			cat := strings.ToLower(v)
			match = func(c *command.Command) bool {
				for _, x := range c.Categories {
					if x == cat {
						return true
					}
				}
				return false
			}
		case "pattern":
			match = func(c *command.Command) bool { return glob.MatchString(v, c.Name, true) }
		}
	}
	if match == nil {
		w.Error(command.ErrSyntax)
		return
	}
	var names []string
	for _, c := range visibleCommands() {
		if match(c) {
			names = append(names, c.Name)
		}
		for _, sc := range sortedSubcommands(c) {
			if match(sc) {
				names = append(names, sc.Name)
			}
		}
	}
	w.Array(len(names))
	for _, n := range names {
		w.BulkString(n)
	}
}

func commandGetKeys(w *resp.Writer, args [][]byte, withFlags bool) {
	full := args[2:]
	c := command.Lookup(full[0])
	if c != nil && c.Flags&command.FlagInternal != 0 {
		c = nil
	}
	if c != nil && len(c.Subcommands) > 0 {
		if len(full) < 2 {
			c = nil
		} else {
			c = c.LookupSub(full[1])
		}
	}
	switch {
	case c == nil:
		w.Error("ERR Invalid command specified")
		return
	case !c.HasKeys():
		w.Error("ERR The command has no key arguments")
		return
	case !command.CheckArity(c.Arity, len(full)):
		w.Error("ERR Invalid number of arguments specified for command")
		return
	}
	keys, ok := c.GetKeys(full)
	if !ok {
		if c.Flags&command.FlagNoMandatoryKeys != 0 {
			w.Array(0)
		} else {
			w.Error("ERR Invalid arguments specified for command")
		}
		return
	}
	w.Array(len(keys))
	for _, k := range keys {
		if !withFlags {
			w.Bulk(full[k.Pos])
			continue
		}
		w.Array(2)
		w.Bulk(full[k.Pos])
		w.Set(len(k.Flags))
		for _, f := range k.Flags {
			w.Status(f)
		}
	}
}
