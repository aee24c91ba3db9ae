package acl

import (
	"fmt"
	"os"
	"strings"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/cairn-db/cairn/internal/durable"
)

// ParseUsers builds users from "user <name> rules..." definitions (config file lines or an ACL
// file's lines, already split). where names each definition for error messages. A user
// defined twice is an error, except the default user in a config file, whose later
// definition starts from a reset.
func ParseUsers(defs [][]string, where []string, allChans bool) ([]*User, error) {
	var errs []string
	var out []*User
	seen := map[string]bool{}
	for i, d := range defs {
		if len(d) < 2 || d[0] != "user" {
			errs = append(errs, fmt.Sprintf("%s should start with user keyword followed by the username.", where[i]))
			continue
		}
		name := d[1]
		if hasSpace(name) {
			errs = append(errs, fmt.Sprintf("%s: username '%s' contains invalid characters.", where[i], name))
			continue
		}
		if seen[name] {
			errs = append(errs, fmt.Sprintf("WARNING: Duplicate user '%s' found on %s.", name, where[i]))
			continue
		}
		seen[name] = true
		u := newUser(name, allChans)
		merged, err := mergeSelectors(d[2:])
		if err != nil {
			errs = append(errs, fmt.Sprintf("%s: Unmatched parenthesis in selector definition.", where[i]))
			continue
		}
		for _, r := range merged {
			if err := u.apply(r, allChans); err != nil {
				if err == errUnknown {
					errs = append(errs, fmt.Sprintf("%s: Error in applying operation '%s': %s.", where[i], r, err))
				} else {
					errs = append(errs, fmt.Sprintf("%s: %s.", where[i], err))
				}
				break
			}
		}
		out = append(out, u.finish())
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%s", strings.Join(errs, " "))
	}
	return out, nil
}

// LoadFile reads an ACL file. Nothing is applied: the caller replaces the users only when the
// whole file is valid.
func LoadFile(path string, allChans bool) ([]*User, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("Error loading ACLs, opening file '%s': %s", path, describeOSError(err))
	}
	var defs [][]string
	var where []string
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.Trim(line, " \t\r\n")
		if line == "" {
			continue
		}
		defs = append(defs, strings.Fields(line))
		where = append(where, fmt.Sprintf("%s:%d", path, i+1))
	}
	users, err := ParseUsers(defs, where, allChans)
	if err != nil {
		return nil, fmt.Errorf("%s WARNING: ACL errors detected, no change to the previously active ACL rules was performed", err)
	}
	return users, nil
}

func describeOSError(err error) string {
	if os.IsNotExist(err) {
		return "No such file or directory"
	}
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err.Error()
	}
	return err.Error()
}

// Save writes every user to path, atomically.
func (r *Registry) Save(path string) error {
	var b strings.Builder
	for _, n := range r.Names() {
		h := r.Get(n)
		if h == nil {
			continue
		}
		b.WriteString("user " + n + " " + h.User().Describe() + "\n")
	}
	return durable.Replace(vfs.Default, path, []byte(b.String()))
}
