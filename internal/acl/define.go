package acl

import (
	"fmt"
	"sort"
	"strings"
)

// Definitions are users written as ACL LIST shows them, name → rules (Describe's output): the
// form in which a cluster's meta group holds its users, so every node builds the same users
// from them, whatever its own acl-pubsub-default.

// Define applies ACL SETUSER rules to a user given by its definition, base ("" for a user that
// does not exist yet), and returns the user's new definition. allChans is acl-pubsub-default
// as the node running ACL SETUSER has it: it decides where a new user's channels start.
func Define(name, base string, rules []string, allChans bool) (string, error) {
	if hasSpace(name) {
		return "", errUsername
	}
	u := newUser(name, allChans)
	if base != "" {
		var err error
		if u, err = parseDefinition(name, base); err != nil {
			return "", err
		}
		u = u.clone()
	}
	if err := u.applyRules(rules, allChans); err != nil {
		return "", err
	}
	return u.finish().Describe(), nil
}

// parseDefinition builds a user from its definition.
func parseDefinition(name, def string) (*User, error) {
	users, err := ParseUsers([][]string{append([]string{"user", name}, strings.Fields(def)...)}, []string{"user " + name}, false)
	if err != nil {
		return nil, err
	}
	return users[0], nil
}

// ParseDefinitions builds users from definitions, in name order.
func ParseDefinitions(defs map[string]string) ([]*User, error) {
	names := make([]string, 0, len(defs))
	for n := range defs {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make([]*User, 0, len(defs))
	for _, n := range names {
		u, err := parseDefinition(n, defs[n])
		if err != nil {
			return nil, fmt.Errorf("user %s: %w", n, err)
		}
		out = append(out, u)
	}
	return out, nil
}

// Definitions returns every user's definition, the default user's included.
func (r *Registry) Definitions() map[string]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]string, len(r.users))
	for n, h := range r.users {
		out[n] = h.cur.Load().Describe()
	}
	return out
}

// Adopt swaps the whole set of users for users, as Replace does, except that when users has
// no default user the registry keeps its own. A user whose definition did not change keeps its
// rules as they are, so adopting the same set again changes nothing.
func (r *Registry) Adopt(users []*User) Change {
	r.mu.Lock()
	defer r.mu.Unlock()
	has := false
	for _, u := range users {
		has = has || u.Name == "default"
	}
	if !has {
		users = append(users, r.def.cur.Load())
	}
	kept := users[:0:0]
	for _, u := range users {
		if h := r.users[u.Name]; h != nil && h.cur.Load().Describe() == u.Describe() {
			u = h.cur.Load()
		}
		kept = append(kept, u)
	}
	ch := r.replaceLocked(kept)
	// Replace reports every user it kept as changed; only real changes matter to the caller.
	out := ch.Changed[:0]
	for _, c := range ch.Changed {
		if c.Old != c.New {
			out = append(out, c)
		}
	}
	ch.Changed = out
	return ch
}

// DefaultDefinition is the definition of a fresh default user (what ACL LOAD gives the default
// user when the file does not define it).
func DefaultDefinition() string { return defaultUser().Describe() }
