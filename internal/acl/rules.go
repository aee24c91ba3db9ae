package acl

import (
	"errors"
	"fmt"
	"strings"

	"github.com/cairn-db/cairn/internal/command"
)

// Errors of ACL rules, with Redis's texts.
var (
	errUsername   = errors.New("Usernames can't contain spaces or null characters")
	errDelDefault = errors.New("The 'default' user cannot be removed")

	errUnknown   = errors.New("Unknown command or category name in ACL")
	errSyntax    = errors.New("Syntax error")
	errKeysAll   = errors.New("Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns")
	errChansAll  = errors.New("Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels")
	errNoPass    = errors.New("The password you are trying to remove from the user does not exist")
	errBadHash   = errors.New("The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters")
	errFirstArgs = errors.New("Allowing first-arg of a subcommand is not supported")
)

// RuleError is a rule that could not be applied, as ACL SETUSER reports it.
type RuleError struct {
	Rule string
	Err  error
}

func (e *RuleError) Error() string {
	return fmt.Sprintf("Error in ACL SETUSER modifier '%s': %s", e.Rule, e.Err)
}

func (e *RuleError) Unwrap() error { return e.Err }

// mergeSelectors joins a selector spread over several arguments ("(+get", "~x)") into one.
func mergeSelectors(rules []string) ([]string, error) {
	var out []string
	open := -1
	var cur string
	for i, r := range rules {
		if open < 0 && strings.HasPrefix(r, "(") && !strings.HasSuffix(r, ")") {
			open, cur = i, r
			continue
		}
		if open >= 0 {
			cur += " " + r
			if strings.HasSuffix(r, ")") {
				out = append(out, cur)
				open = -1
			}
			continue
		}
		out = append(out, r)
	}
	if open >= 0 {
		return nil, fmt.Errorf("Unmatched parenthesis in acl selector starting at '%s'.", rules[open])
	}
	return out, nil
}

// applyRules applies ACL SETUSER rules to u in order.
func (u *User) applyRules(rules []string, allChans bool) error {
	merged, err := mergeSelectors(rules)
	if err != nil {
		return err
	}
	for _, r := range merged {
		if err := u.apply(r, allChans); err != nil {
			return &RuleError{Rule: r, Err: err}
		}
	}
	return nil
}

// apply applies one rule to u.
func (u *User) apply(op string, allChans bool) error {
	if op == "" {
		return nil
	}
	switch strings.ToLower(op) {
	case "on":
		u.enabled = true
		return nil
	case "off":
		u.enabled = false
		return nil
	case "skip-sanitize-payload":
		u.skipSanit = true
		return nil
	case "sanitize-payload":
		u.skipSanit = false
		return nil
	case "nopass":
		u.nopass, u.passwords = true, nil
		return nil
	case "resetpass":
		u.nopass, u.passwords = false, nil
		return nil
	case "clearselectors":
		u.selectors = u.selectors[:1]
		return nil
	case "reset":
		u.nopass, u.passwords = false, nil
		r := u.root()
		r.allKeys, r.keys = false, nil
		r.allChans, r.channels = allChans, nil
		u.enabled, u.skipSanit = false, false
		u.selectors = u.selectors[:1]
		return r.apply("-@all")
	}
	switch op[0] {
	case '>', '#':
		var h string
		if op[0] == '>' {
			h = HashPassword([]byte(op[1:]))
		} else {
			if !validHash(op[1:]) {
				return errBadHash
			}
			h = op[1:]
		}
		if !contains(u.passwords, h) {
			u.passwords = append(u.passwords, h)
		}
		u.nopass = false
		return nil
	case '<', '!':
		var h string
		if op[0] == '<' {
			h = HashPassword([]byte(op[1:]))
		} else {
			if !validHash(op[1:]) {
				return errBadHash
			}
			h = op[1:]
		}
		for i, p := range u.passwords {
			if p == h {
				u.passwords = append(u.passwords[:i:i], u.passwords[i+1:]...)
				return nil
			}
		}
		return errNoPass
	case '(':
		if op[len(op)-1] != ')' {
			break
		}
		s := newSelector(false, allChans)
		for _, r := range splitArgs(op[1 : len(op)-1]) {
			if err := s.apply(r); err != nil {
				return err
			}
		}
		u.selectors = append(u.selectors, s)
		return nil
	}
	return u.root().apply(op)
}

func validHash(h string) bool {
	if len(h) != 64 {
		return false
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// splitArgs splits a selector's inside on spaces.
func splitArgs(s string) []string { return strings.Fields(s) }

// apply applies one selector rule.
func (s *Selector) apply(op string) error {
	if op == "" {
		return nil
	}
	switch strings.ToLower(op) {
	case "allkeys", "~*":
		s.allKeys, s.keys = true, nil
		return nil
	case "resetkeys":
		s.allKeys, s.keys = false, nil
		return nil
	case "allchannels", "&*":
		s.allChans, s.channels = true, nil
		return nil
	case "resetchannels":
		s.allChans, s.channels = false, nil
		return nil
	case "allcommands", "+@all":
		for i := range s.cmds {
			s.cmds[i] = ^uint64(0)
		}
		s.rules, s.firstArgs = nil, nil
		return nil
	case "nocommands", "-@all":
		for i := range s.cmds {
			s.cmds[i] = 0
		}
		s.rules, s.firstArgs = nil, nil
		return nil
	}
	switch {
	case op[0] == '~' || op[0] == '%':
		if s.allKeys {
			return errKeysAll
		}
		perms := uint8(permAll)
		off := 1
		if op[0] == '%' {
			perms = 0
			for ; off < len(op); off++ {
				c := op[off]
				if (c == 'R' || c == 'r') && perms&permRead == 0 {
					perms |= permRead
				} else if (c == 'W' || c == 'w') && perms&permWrite == 0 {
					perms |= permWrite
				} else if c == '~' && perms != 0 {
					off++
					break
				} else {
					return errSyntax
				}
			}
			if off > len(op) || op[off-1] != '~' {
				return errSyntax
			}
		}
		pat := op[off:]
		if hasSpace(pat) {
			return errSyntax
		}
		for i := range s.keys {
			if s.keys[i].pat == pat {
				s.keys[i].perms |= perms
				return nil
			}
		}
		s.keys = append(s.keys, keyPattern{pat: pat, patb: []byte(pat), perms: perms})
		return nil
	case op[0] == '&':
		if s.allChans {
			return errChansAll
		}
		pat := op[1:]
		if hasSpace(pat) {
			return errSyntax
		}
		if !contains(s.channels, pat) {
			s.channels = append(s.channels, pat)
		}
		return nil
	case len(op) > 1 && (op[0] == '+' || op[0] == '-') && op[1] == '@':
		cat := strings.ToLower(op[2:])
		ids, ok := categoryIDs(cat)
		if !ok {
			return errUnknown
		}
		allow := op[0] == '+'
		s.updateRules(strings.ToLower(op[1:]), allow)
		for _, id := range ids {
			s.changePerm(command.ByID()[id], allow)
		}
		return nil
	case op[0] == '+':
		name := op[1:]
		if !strings.Contains(name, "|") {
			c := lookup(name)
			if c == nil {
				return errUnknown
			}
			s.changePerm(c, true)
			s.updateRules(c.Name, true)
			return nil
		}
		i := strings.LastIndexByte(name, '|')
		parent, sub := name[:i], name[i+1:]
		c := lookup(parent)
		if c == nil {
			return errUnknown
		}
		if c.Parent != nil {
			return errFirstArgs
		}
		if sub == "" {
			return errSyntax
		}
		if len(c.Subcommands) > 0 {
			sc := lookup(name)
			if sc == nil {
				return errUnknown
			}
			s.changePerm(sc, true)
		} else {
			if s.firstArgs == nil {
				s.firstArgs = map[int][]string{}
			}
			if !containsFold(s.firstArgs[c.ID], sub) {
				s.firstArgs[c.ID] = append(s.firstArgs[c.ID], sub)
			}
		}
		s.updateRules(name, true)
		return nil
	case op[0] == '-':
		c := lookup(op[1:])
		if c == nil {
			return errUnknown
		}
		s.changePerm(c, false)
		s.updateRules(c.Name, false)
		return nil
	}
	return errSyntax
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// lookup finds a command or "container|sub" by name, case-insensitively.
func lookup(name string) *command.Command {
	parent, sub, ok := strings.Cut(name, "|")
	c := command.Lookup([]byte(parent))
	if c == nil || c.Flags&command.FlagInternal != 0 {
		return nil
	}
	if !ok {
		return c
	}
	if strings.Contains(sub, "|") {
		return nil
	}
	return c.LookupSub([]byte(sub))
}

// changePerm allows or denies a command and, for a container, its subcommands.
func (s *Selector) changePerm(c *command.Command, allow bool) {
	s.setBit(c.ID, allow)
	delete(s.firstArgs, c.ID)
	for _, sc := range c.Subcommands {
		s.setBit(sc.ID, allow)
	}
}

// updateRules records a command rule, removing earlier occurrences of it (and of its
// subcommands' rules when it names a whole command).
func (s *Selector) updateRules(rule string, allow bool) {
	rule = strings.ToLower(rule)
	out := s.rules[:0]
	for _, r := range s.rules {
		body := r[1:]
		if body == rule || strings.HasPrefix(body, rule+"|") {
			continue
		}
		out = append(out, r)
	}
	sign := "-"
	if allow {
		sign = "+"
	}
	s.rules = append(out, sign+rule)
}
