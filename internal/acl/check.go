package acl

import (
	"bytes"
	"strings"
	"sync"

	"github.com/cairn-db/cairn/internal/command"
	"github.com/cairn-db/cairn/internal/glob"
)

// Reason is why a request was denied; the order is Redis's, which picks the highest among
// several selectors' denials.
type Reason uint8

// Reasons, as ACL LOG names them.
const (
	OK Reason = iota
	DeniedCmd
	DeniedKey
	DeniedAuth
	DeniedChannel
)

func (r Reason) String() string {
	switch r {
	case DeniedCmd:
		return "command"
	case DeniedKey:
		return "key"
	case DeniedAuth:
		return "auth"
	case DeniedChannel:
		return "channel"
	}
	return "unknown"
}

// Denial is the outcome of a check: OK, or the reason and the argument (key or channel) at fault.
type Denial struct {
	Reason Reason
	Pos    int
}

// Message is the NOPERM error's text without the "-NOPERM " prefix; verbose (ACL DRYRUN) names
// the key or channel.
func (d Denial) Message(user string, cmd *command.Command, args [][]byte, verbose bool) string {
	switch d.Reason {
	case DeniedCmd:
		return "User " + user + " has no permissions to run the '" + cmd.Name + "' command"
	case DeniedKey:
		if verbose {
			return "User " + user + " has no permissions to access the '" + string(args[d.Pos]) + "' key"
		}
		return "No permissions to access a key"
	case DeniedChannel:
		if verbose {
			return "User " + user + " has no permissions to access the '" + string(args[d.Pos]) + "' channel"
		}
		return "No permissions to access a channel"
	}
	return ""
}

// Check decides whether u may run cmd with args (args[0] the command name). cmd is the
// subcommand for a container's subcommand.
func (u *User) Check(cmd *command.Command, args [][]byte) Denial {
	if u.fast || cmd.Flags&command.FlagNoAuth != 0 {
		return Denial{}
	}
	best := Denial{Reason: DeniedCmd}
	var keys []command.KeyRef
	keysDone := false
	for _, s := range u.selectors {
		d := s.check(cmd, args, &keys, &keysDone)
		if d.Reason == OK {
			return d
		}
		if d.Reason > best.Reason || d.Reason == best.Reason && d.Pos > best.Pos {
			best = d
		}
	}
	return best
}

func (s *Selector) check(cmd *command.Command, args [][]byte, keys *[]command.KeyRef, keysDone *bool) Denial {
	if !s.bit(cmd.ID) {
		fa := s.firstArgs[cmd.ID]
		idx := 1
		if cmd.Parent != nil {
			idx = 2
		}
		if fa == nil || len(args) <= idx || !containsFold(fa, string(args[idx])) {
			return Denial{Reason: DeniedCmd}
		}
	}
	if !s.allKeys && cmd.HasKeys() {
		if d := s.checkKeys(cmd, args, keys, keysDone); d.Reason != OK {
			return d
		}
	}
	if !s.allChans {
		pos, pattern := channelArgs(cmd, args)
		for _, p := range pos {
			if !s.channelAllowed(args[p], pattern) {
				return Denial{Reason: DeniedChannel, Pos: p}
			}
		}
	}
	return Denial{}
}

// checkKeys checks the request's keys against the selector's key patterns. keys caches the
// key list across selectors.
func (s *Selector) checkKeys(cmd *command.Command, args [][]byte, keys *[]command.KeyRef, keysDone *bool) Denial {
	if sk := simpleKeysOf(cmd); sk.ok {
		return s.checkSimpleKeys(sk, args)
	}
	if !*keysDone {
		*keys, _ = cmd.GetKeys(args)
		*keysDone = true
	}
	for _, k := range *keys {
		if isNotKey(k.Flags) {
			continue // a shard channel, checked as a channel
		}
		if !s.keyAllowed(args[k.Pos], keyPerms(k.Flags)) {
			return Denial{Reason: DeniedKey, Pos: k.Pos}
		}
	}
	return Denial{}
}

func isNotKey(flags []string) bool {
	for _, f := range flags {
		if f == "not_key" {
			return true
		}
	}
	return false
}

// simpleKeys describes a command whose keys one key spec finds at fixed positions, so a check
// reads them without building a key list.
type simpleKeys struct {
	ok                bool
	begin, last, step int // last as the key spec gives it (relative, or negative from the end)
	limit             int
	perms             uint8
}

var (
	simpleOnce sync.Once
	simple     []simpleKeys
)

// variableKeys are the commands whose keys the key specs do not describe fully.
var variableKeys = map[string]bool{"sort": true, "sort_ro": true, "migrate": true, "set": true, "bitfield": true}

func simpleKeysOf(c *command.Command) simpleKeys {
	simpleOnce.Do(func() {
		all := command.ByID()
		simple = make([]simpleKeys, len(all))
		for i, c := range all {
			if c.Keys != nil || variableKeys[c.Name] || len(c.KeySpecs) != 1 {
				continue
			}
			ks := c.KeySpecs[0]
			if ks.Keyword != "" || !ks.Range || ks.Unknown || ks.UnknownKeys || ks.BeginIndex <= 0 {
				continue
			}
			flags := ks.SpecFlags()
			bad := false
			for _, f := range flags {
				if f == "incomplete" || f == "not_key" {
					bad = true
				}
			}
			for _, f := range ks.Flags {
				if f == "VARIABLE_FLAGS" {
					bad = true
				}
			}
			if bad {
				continue
			}
			step := ks.KeyStep
			if step <= 0 {
				step = 1
			}
			simple[i] = simpleKeys{ok: true, begin: ks.BeginIndex, last: ks.LastKey, step: step, limit: ks.Limit, perms: keyPerms(flags)}
		}
	})
	return simple[c.ID]
}

func (s *Selector) checkSimpleKeys(sk simpleKeys, args [][]byte) Denial {
	argc := len(args)
	first := sk.begin
	var last int
	switch {
	case sk.last >= 0:
		last = first + sk.last
	case sk.limit == 0:
		last = argc + sk.last
	default:
		last = first + ((argc-first)/sk.limit + sk.last)
	}
	if last >= argc {
		last = argc - 1
	}
	for i := first; i <= last; i += sk.step {
		if !s.keyAllowed(args[i], sk.perms) {
			return Denial{Reason: DeniedKey, Pos: i}
		}
	}
	return Denial{}
}

// keyPerms is what a key spec's flags need: reading for access, writing for insert, delete or
// update.
func keyPerms(flags []string) uint8 {
	var p uint8
	for _, f := range flags {
		switch f {
		case "access":
			p |= permRead
		case "insert", "delete", "update":
			p |= permWrite
		}
	}
	return p
}

func (s *Selector) keyAllowed(key []byte, need uint8) bool {
	for _, k := range s.keys {
		if k.perms&need != need {
			continue
		}
		if glob.Match(k.patb, key, false) {
			return true
		}
	}
	return false
}

func (s *Selector) channelAllowed(ch []byte, pattern bool) bool {
	for _, c := range s.channels {
		if pattern {
			if c == string(ch) {
				return true
			}
		} else if glob.Match([]byte(c), ch, false) {
			return true
		}
	}
	return false
}

// channelArgs finds the channels a command publishes or subscribes to; pattern is set when
// they are patterns (PSUBSCRIBE), matched literally against the user's channel patterns.
func channelArgs(cmd *command.Command, args [][]byte) (pos []int, pattern bool) {
	switch cmd.Name {
	case "publish", "spublish":
		if len(args) > 1 {
			return []int{1}, false
		}
	case "subscribe", "ssubscribe", "psubscribe":
		pos = make([]int, 0, len(args)-1)
		for i := 1; i < len(args); i++ {
			pos = append(pos, i)
		}
		return pos, cmd.Name == "psubscribe"
	}
	return nil, false
}

// KeyAllowed reports whether u may access key with the given permissions in any selector
// (read, write); used by commands that touch keys their specs do not name.
func (u *User) KeyAllowed(key []byte, read, write bool) bool {
	var need uint8
	if read {
		need |= permRead
	}
	if write {
		need |= permWrite
	}
	for _, s := range u.selectors {
		if s.allKeys || s.keyAllowed(key, need) {
			return true
		}
	}
	return false
}

// ChannelAllowed reports whether u may subscribe to ch (a pattern when pattern is set).
func (u *User) ChannelAllowed(ch string, pattern bool) bool {
	for _, s := range u.selectors {
		if s.allChans || s.channelAllowed([]byte(ch), pattern) {
			return true
		}
	}
	return false
}

// ChannelsKept reports whether every channel permission of old is still in u, so none of its
// subscribers need disconnecting.
func (u *User) ChannelsKept(old *User) bool {
	for _, s := range u.selectors {
		if s.allChans {
			return true
		}
	}
	var upcoming []string
	for _, s := range u.selectors {
		upcoming = append(upcoming, s.channels...)
	}
	for _, s := range old.selectors {
		if s.allChans {
			return false
		}
		for _, c := range s.channels {
			if !contains(upcoming, c) {
				return false
			}
		}
	}
	return true
}

// SubscriptionKept reports whether a subscription to ch (a pattern when pattern is set) is
// still allowed to u, deciding whether to disconnect a subscriber after its user changed.
func (u *User) SubscriptionKept(ch string, pattern bool) bool {
	for _, s := range u.selectors {
		if s.allChans {
			return true
		}
		if s.channelAllowed([]byte(ch), pattern) {
			return true
		}
	}
	return false
}

// SortPatternDenied returns the error for a SORT whose BY or GET pattern would read keys the
// user may not read — any key, since the pattern names keys only when it runs: Redis allows
// them only to a selector that allows the command and reading every key. "" when allowed.
func (u *User) SortPatternDenied(cmd *command.Command, args [][]byte) string {
	if u.fast || (cmd.Name != "sort" && cmd.Name != "sort_ro") {
		return ""
	}
	for j := 2; j < len(args); j++ {
		left := len(args) - j - 1
		a := string(args[j])
		switch {
		case strings.EqualFold(a, "limit") && left >= 2:
			j += 2
		case strings.EqualFold(a, "store") && left >= 1:
			j++
		case strings.EqualFold(a, "by") && left >= 1:
			if bytes.IndexByte(args[j+1], '*') >= 0 && !u.readsEveryKey(cmd, args) {
				return "ERR BY option of SORT denied due to insufficient ACL permissions."
			}
			j++
		case strings.EqualFold(a, "get") && left >= 1:
			if !u.readsEveryKey(cmd, args) {
				return "ERR GET option of SORT denied due to insufficient ACL permissions."
			}
			j++
		}
	}
	return ""
}

// readsEveryKey reports whether a selector that allows the request may read any key.
func (u *User) readsEveryKey(cmd *command.Command, args [][]byte) bool {
	var keys []command.KeyRef
	done := false
	for _, s := range u.selectors {
		if s.check(cmd, args, &keys, &done).Reason != OK {
			continue
		}
		if s.allKeys {
			return true
		}
		for _, k := range s.keys {
			if k.perms&permRead != 0 && k.pat == "*" {
				return true
			}
		}
	}
	return false
}
