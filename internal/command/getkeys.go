package command

import "strings"

// KeyRef is a key argument of a request: its index in the arguments (the command name is 0)
// and the key spec flags that apply to it, as COMMAND GETKEYSANDFLAGS reports them.
type KeyRef struct {
	Pos   int
	Flags []string
}

// GetKeys finds the key arguments of args (args[0] is the command name, args[1] the subcommand
// for a subcommand) the way Redis's COMMAND GETKEYS does: from the key specs when every spec can
// be followed and none has variable flags, otherwise with the command's own key finder. ok is
// false when the arguments are not valid for the specs (a key count past the end, say).
func (c *Command) GetKeys(args [][]byte) (keys []KeyRef, ok bool) {
	if c.Keys != nil {
		pos := c.Keys(args)
		keys = make([]KeyRef, len(pos))
		for i, p := range pos {
			keys[i] = KeyRef{Pos: p, Flags: c.flagsAt(p)}
		}
		return keys, len(keys) > 0
	}
	variable := false
	for _, ks := range c.KeySpecs {
		if hasFlag(ks.Flags, "VARIABLE_FLAGS") {
			variable = true
		}
	}
	if !variable {
		if keys, ok := c.keysFromSpecs(args); ok {
			return keys, len(keys) > 0
		}
	}
	if f := nativeKeys[c.Name]; f != nil {
		keys = f(c, args)
		return keys, len(keys) > 0
	}
	return nil, false
}

// HasKeys reports whether the command takes key arguments at all.
func (c *Command) HasKeys() bool {
	return len(c.KeySpecs) > 0 || c.Keys != nil || nativeKeys[c.Name] != nil
}

// keysFromSpecs follows the key specs (Redis's getKeysUsingKeySpecs). ok is false when a spec
// cannot be followed (unknown, incomplete, or pointing past the arguments).
func (c *Command) keysFromSpecs(args [][]byte) ([]KeyRef, bool) {
	argc := len(args)
	var keys []KeyRef
	for _, ks := range c.KeySpecs {
		if ks.Unknown || ks.UnknownKeys || hasFlag(ks.Flags, "INCOMPLETE") {
			return nil, false
		}
		first := 0
		if ks.Keyword == "" {
			first = ks.BeginIndex
		} else {
			first = findKeyword(args, ks.Keyword, ks.KeywordStart)
			if first == 0 {
				continue // the keyword is optional and absent
			}
		}
		var last, step int
		if ks.Range {
			step = ks.KeyStep
			switch {
			case ks.LastKey >= 0:
				last = first + ks.LastKey
			case ks.Limit == 0:
				last = argc + ks.LastKey
			default:
				last = first + ((argc-first)/ks.Limit + ks.LastKey)
			}
		} else {
			step = ks.KeyStep
			if first+ks.KeyNumIdx >= argc {
				return nil, false
			}
			n, good := ParseInt(args[first+ks.KeyNumIdx])
			if !good || n < 0 || n > int64(argc) {
				return nil, false
			}
			first += ks.FirstKey
			last = first + int(n) - 1
		}
		if last < first || last >= argc || first >= argc {
			return nil, false
		}
		if step <= 0 {
			step = 1
		}
		for i := first; i <= last; i += step {
			keys = append(keys, KeyRef{Pos: i, Flags: specFlags(ks.Flags)})
		}
	}
	return keys, true
}

// findKeyword returns the index after the keyword, searching forward from start (or backward
// from argc+start when start is negative), or 0 when it is absent.
func findKeyword(args [][]byte, keyword string, start int) int {
	argc := len(args)
	kw := strings.ToLower(keyword)
	if start > 0 {
		for i := start; i < argc-1; i++ {
			if EqualFold(args[i], kw) {
				return i + 1
			}
		}
		return 0
	}
	for i := argc + start; i > 0; i-- {
		if i >= argc {
			continue
		}
		if EqualFold(args[i], kw) {
			return i + 1
		}
	}
	return 0
}

// specFlags turns the reference's key spec flags into the names Redis replies with: the access
// type upper case (RO, RW, OW, RM), the rest lower case.
func specFlags(flags []string) []string {
	out := make([]string, 0, len(flags))
	for _, f := range flags {
		switch f {
		case "RO", "RW", "OW", "RM":
			out = append(out, f)
		case "VARIABLE_FLAGS":
			// Redis does not report it.
		default:
			out = append(out, strings.ToLower(f))
		}
	}
	return out
}

// SpecFlags returns the key spec's flags as COMMAND INFO reports them.
func (ks *KeySpec) SpecFlags() []string { return specFlags(ks.Flags) }

func (c *Command) flagsAt(pos int) []string {
	for _, ks := range c.KeySpecs {
		if ks.Keyword == "" && ks.BeginIndex == pos {
			return specFlags(ks.Flags)
		}
	}
	if len(c.KeySpecs) > 0 {
		return specFlags(c.KeySpecs[0].Flags)
	}
	return nil
}

func hasFlag(flags []string, f string) bool {
	for _, x := range flags {
		if x == f {
			return true
		}
	}
	return false
}

// nativeKeys are Redis's get-keys functions for the commands whose key specs cannot describe
// their keys (SORT's STORE, MIGRATE's KEYS) or whose key flags vary with the arguments (SET with
// GET, BITFIELD).
var nativeKeys = map[string]func(c *Command, args [][]byte) []KeyRef{
	"sort":     sortKeys,
	"sort_ro":  sortKeys,
	"migrate":  migrateKeys,
	"set":      setKeys,
	"bitfield": bitfieldKeys,
}

func sortKeys(c *Command, args [][]byte) []KeyRef {
	keys := []KeyRef{{Pos: 1, Flags: []string{"RO", "access"}}}
	if c.Name == "sort_ro" {
		return keys
	}
	skip := map[string]int{"limit": 2, "get": 1, "by": 1}
	store := 0
	for i := 2; i < len(args); i++ {
		name := strings.ToLower(string(args[i]))
		if n, ok := skip[name]; ok {
			i += n
			continue
		}
		if name == "store" && i+1 < len(args) {
			// The last STORE wins, as in SORT itself.
			store = i + 1
			i++
		}
	}
	if store > 0 {
		keys = append(keys, KeyRef{Pos: store, Flags: []string{"OW", "update"}})
	}
	return keys
}

func migrateKeys(c *Command, args [][]byte) []KeyRef {
	flags := []string{"RW", "access", "delete"}
	// MIGRATE host port key|"" db timeout [COPY] [REPLACE] [AUTH pw] [AUTH2 user pw] [KEYS k...]
	if len(args) > 6 && len(args[3]) == 0 {
		for i := 6; i < len(args); i++ {
			switch {
			case EqualFold(args[i], "auth"):
				i++
			case EqualFold(args[i], "auth2"):
				i += 2
			case EqualFold(args[i], "keys"):
				var keys []KeyRef
				for j := i + 1; j < len(args); j++ {
					keys = append(keys, KeyRef{Pos: j, Flags: flags})
				}
				return keys
			}
		}
		return nil
	}
	return []KeyRef{{Pos: 3, Flags: flags}}
}

func setKeys(c *Command, args [][]byte) []KeyRef {
	for _, a := range args[3:] {
		if EqualFold(a, "get") {
			return []KeyRef{{Pos: 1, Flags: []string{"RW", "access", "update"}}}
		}
	}
	return []KeyRef{{Pos: 1, Flags: []string{"OW", "update"}}}
}

func bitfieldKeys(c *Command, args [][]byte) []KeyRef {
	readOnly := true
	for i := 2; i < len(args); i++ {
		switch {
		case EqualFold(args[i], "get"):
			i += 2
		case EqualFold(args[i], "set"), EqualFold(args[i], "incrby"):
			readOnly = false
			i += 3
		case EqualFold(args[i], "overflow"):
			i++
		}
	}
	if readOnly {
		return []KeyRef{{Pos: 1, Flags: []string{"RO", "access"}}}
	}
	return []KeyRef{{Pos: 1, Flags: []string{"RW", "access", "update"}}}
}
