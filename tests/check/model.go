package check

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/cairn-db/cairn/internal/cluster"
)

// KeysPerGroup is how many keys share a hash tag. A group is the unit of partitioning: a
// transaction touches keys of one group only, so groups are checked independently.
const KeysPerGroup = 3

// Kind is an operation's type.
type Kind uint8

// Operation kinds.
const (
	Get Kind = iota
	Set
	Incr
	Append
	// Txn is MULTI; INCR key; APPEND key2 arg; GET key2; EXEC.
	Txn
	// MSet is MSET key arg key2 arg.
	MSet
)

var kindNames = [...]string{"get", "set", "incr", "append", "txn", "mset"}

func (k Kind) String() string { return kindNames[k] }

// IsWrite reports whether an operation of this kind goes through the log.
func (k Kind) IsWrite() bool { return k != Get }

// Input is one operation a client issued.
type Input struct {
	Kind  Kind
	Group int
	Slot  int    // the key within the group
	Slot2 int    // the second key of a transaction or MSET
	Arg   string // SET's value, APPEND's suffix
	// Cross takes the second key from group Group2, whose hash tag is in another slot: a
	// cross-slot request, which a cluster refuses (CROSSSLOT) and never applies.
	Cross  bool
	Group2 int
}

// key2 is the second key of a transaction or MSET.
func (in Input) key2() string {
	if in.Cross {
		return Key(in.Group2, in.Slot2)
	}
	return Key(in.Group, in.Slot2)
}

// Key names a key: "{g3}a" is slot 0 of group 3. The hash tag keeps a group in one slot, so a
// transaction over it is one shard's.
func Key(group, slot int) string { return fmt.Sprintf("{g%d}%c", group, 'a'+slot) }

// Keys is the input's keys in order.
func (in Input) Keys() []string {
	if in.Kind == Txn || in.Kind == MSet {
		return []string{Key(in.Group, in.Slot), in.key2()}
	}
	return []string{Key(in.Group, in.Slot)}
}

// Args is the command (or the transaction's commands) the input stands for.
func (in Input) Args() [][]string {
	k := Key(in.Group, in.Slot)
	switch in.Kind {
	case Get:
		return [][]string{{"GET", k}}
	case Set:
		return [][]string{{"SET", k, in.Arg}}
	case Incr:
		return [][]string{{"INCR", k}}
	case Append:
		return [][]string{{"APPEND", k, in.Arg}}
	case MSet:
		return [][]string{{"MSET", k, in.Arg, in.key2(), in.Arg}}
	}
	k2 := in.key2()
	return [][]string{{"INCR", k}, {"APPEND", k2, in.Arg}, {"GET", k2}}
}

func (in Input) String() string {
	var parts []string
	for _, c := range in.Args() {
		parts = append(parts, strings.Join(c, " "))
	}
	if in.Kind == Txn {
		return "MULTI; " + strings.Join(parts, "; ") + "; EXEC"
	}
	return parts[0]
}

// Output is the reply to an operation.
type Output struct {
	// Unknown marks a write whose outcome the client never learned (a timeout, a lost
	// connection): it may or may not have been applied, and any reply is consistent with it.
	Unknown bool
	Err     string
	Nil     bool
	Str     string
	Int     int64
	IsInt   bool
	Multi   []Output
}

// Equal reports whether two replies are the same.
func (o Output) Equal(p Output) bool {
	if o.Unknown != p.Unknown || o.Err != p.Err || o.Nil != p.Nil || o.Str != p.Str || o.Int != p.Int || o.IsInt != p.IsInt || len(o.Multi) != len(p.Multi) {
		return false
	}
	for i := range o.Multi {
		if !o.Multi[i].Equal(p.Multi[i]) {
			return false
		}
	}
	return true
}

func (o Output) String() string {
	switch {
	case o.Unknown:
		return "?"
	case o.Err != "":
		return "(error) " + o.Err
	case o.Nil:
		return "(nil)"
	case o.IsInt:
		return strconv.FormatInt(o.Int, 10)
	case o.Multi != nil:
		var parts []string
		for _, m := range o.Multi {
			parts = append(parts, m.String())
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	return strconv.Quote(o.Str)
}

// State is a group's keys. It is a value: a step returns a new one.
type State struct {
	Val [KeysPerGroup]string
	Has [KeysPerGroup]bool
}

func (s State) String() string {
	var parts []string
	for i := range s.Val {
		if s.Has[i] {
			parts = append(parts, fmt.Sprintf("%c=%q", 'a'+i, s.Val[i]))
		}
	}
	return "{" + strings.Join(parts, " ") + "}"
}

// Redis's reply to INCR of a value that is not an integer.
const errNotInt = "ERR value is not an integer or out of range"

// ErrCrossSlot is a cluster's reply to a cross-slot request (without the leading '-').
const ErrCrossSlot = cluster.ErrCrossSlot

// Apply runs an operation on a group's state as Redis would, returning the new state and the
// reply. A cross-slot request changes nothing: a cluster answers it with CROSSSLOT.
func Apply(s State, in Input) (State, Output) {
	if in.Cross {
		return s, Output{Err: ErrCrossSlot}
	}
	switch in.Kind {
	case Get:
		return s, get(s, in.Slot)
	case Set:
		s.Val[in.Slot], s.Has[in.Slot] = in.Arg, true
		return s, Output{Str: "OK"}
	case Incr:
		return incr(s, in.Slot)
	case Append:
		return appendTo(s, in.Slot, in.Arg)
	case MSet:
		s.Val[in.Slot], s.Has[in.Slot] = in.Arg, true
		s.Val[in.Slot2], s.Has[in.Slot2] = in.Arg, true
		return s, Output{Str: "OK"}
	}
	var a, b, c Output
	s, a = incr(s, in.Slot)
	s, b = appendTo(s, in.Slot2, in.Arg)
	c = get(s, in.Slot2)
	return s, Output{Multi: []Output{a, b, c}}
}

func get(s State, slot int) Output {
	if !s.Has[slot] {
		return Output{Nil: true}
	}
	return Output{Str: s.Val[slot]}
}

func incr(s State, slot int) (State, Output) {
	var n int64
	if s.Has[slot] {
		v, ok := parseInt(s.Val[slot])
		if !ok {
			return s, Output{Err: errNotInt}
		}
		n = v
	}
	if n == 1<<63-1 {
		return s, Output{Err: "ERR increment or decrement would overflow"}
	}
	n++
	s.Val[slot], s.Has[slot] = strconv.FormatInt(n, 10), true
	return s, Output{Int: n, IsInt: true}
}

func appendTo(s State, slot int, suffix string) (State, Output) {
	s.Val[slot] += suffix
	s.Has[slot] = true
	return s, Output{Int: int64(len(s.Val[slot])), IsInt: true}
}

// parseInt parses as Redis's string2ll: an optional minus, no leading zeros, no sign on zero,
// nothing else.
func parseInt(v string) (int64, bool) {
	if v == "0" {
		return 0, true
	}
	d := v
	if strings.HasPrefix(d, "-") {
		d = d[1:]
	}
	if d == "" || len(d) > 19 || d[0] < '1' || d[0] > '9' {
		return 0, false
	}
	for i := 1; i < len(d); i++ {
		if d[i] < '0' || d[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(v, 10, 64)
	return n, err == nil
}

// Step is the model's transition: whether out is a possible reply to in from state s, and the
// state after it.
func Step(s State, in Input, out Output) (bool, State) {
	next, want := Apply(s, in)
	if out.Unknown {
		return true, next
	}
	return want.Equal(out), next
}
