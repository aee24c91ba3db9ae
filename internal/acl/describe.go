package acl

import "strings"

// Flags are the user's flags as ACL GETUSER lists them.
func (u *User) Flags() []string {
	var out []string
	if u.enabled {
		out = append(out, "on")
	} else {
		out = append(out, "off")
	}
	if u.nopass {
		out = append(out, "nopass")
	}
	if u.skipSanit {
		out = append(out, "skip-sanitize-payload")
	} else {
		out = append(out, "sanitize-payload")
	}
	return out
}

// Passwords are the user's password hashes.
func (u *User) Passwords() []string { return u.passwords }

// Describe is the user's rules in ACL SETUSER form, as ACL LIST and the ACL file show them
// (without the "user <name> " prefix).
func (u *User) Describe() string {
	var b strings.Builder
	for _, f := range u.Flags() {
		b.WriteString(f)
		b.WriteByte(' ')
	}
	for _, p := range u.passwords {
		b.WriteByte('#')
		b.WriteString(p)
		b.WriteByte(' ')
	}
	for i, s := range u.selectors {
		if i == 0 {
			b.WriteString(s.describe())
		} else {
			b.WriteString(" (" + s.describe() + ")")
		}
	}
	return b.String()
}

func (s *Selector) describe() string {
	var b strings.Builder
	if s.allKeys {
		b.WriteString("~* ")
	} else {
		for _, k := range s.keys {
			b.WriteString(k.String())
			b.WriteByte(' ')
		}
	}
	if s.allChans {
		b.WriteString("&* ")
	} else {
		b.WriteString("resetchannels ")
		for _, c := range s.channels {
			b.WriteString("&" + c + " ")
		}
	}
	b.WriteString(s.Commands())
	return b.String()
}

func (k keyPattern) String() string {
	switch k.perms {
	case permRead:
		return "%R~" + k.pat
	case permWrite:
		return "%W~" + k.pat
	}
	return "~" + k.pat
}

// SelectorInfo is a selector as ACL GETUSER shows it.
type SelectorInfo struct {
	Commands, Keys, Channels string
}

// Selectors describes the root selector and then the others.
func (u *User) Selectors() []SelectorInfo {
	out := make([]SelectorInfo, len(u.selectors))
	for i, s := range u.selectors {
		out[i] = SelectorInfo{Commands: s.Commands(), Keys: s.Keys(), Channels: s.Channels()}
	}
	return out
}

// Commands is the selector's command rules: +@all or -@all, then the rules given since.
func (s *Selector) Commands() string {
	start := "-@all"
	if s.bit(futureBit()) {
		start = "+@all"
	}
	if len(s.rules) == 0 {
		return start
	}
	return start + " " + strings.Join(s.rules, " ")
}

// Keys is the selector's key patterns.
func (s *Selector) Keys() string {
	if s.allKeys {
		return "~*"
	}
	parts := make([]string, len(s.keys))
	for i, k := range s.keys {
		parts[i] = k.String()
	}
	return strings.Join(parts, " ")
}

// Channels is the selector's channel patterns.
func (s *Selector) Channels() string {
	if s.allChans {
		return "&*"
	}
	parts := make([]string, len(s.channels))
	for i, c := range s.channels {
		parts[i] = "&" + c
	}
	return strings.Join(parts, " ")
}
